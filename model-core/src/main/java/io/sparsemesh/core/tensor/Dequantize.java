package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar decoders from stored element types to floats, one element or block at a time. They are
 * the reference for the weight decoding of every vector kernel. Block layouts follow ggml's
 * {@code ggml-common.h} and {@code dequantize_row_*} in {@code ggml-quants.c}.
 */
final class Dequantize {

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes of a Q4_K super-block before its 128 bytes of packed 4-bit values: d, dmin, 12 bytes of scales. */
    static final int Q4_K_QS = 16;
    /** Offsets inside a Q6_K super-block: 128 bytes of low 4 bits, 64 of high 2 bits, 16 scales, then d. */
    static final int Q6_K_QH = 128;
    static final int Q6_K_SCALES = 192;
    static final int Q6_K_D = 208;

    private Dequantize() {
    }

    /**
     * Decodes {@code count} elements of {@code dtype} starting at byte {@code offset} of
     * {@code src} into {@code dst[dstOffset ..)}. For block types, {@code offset} must start a
     * block and {@code count} must be whole blocks.
     */
    static void decode(DType dtype, MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        int blocks = Math.toIntExact(dtype.bytesFor(count) / dtype.blockBytes());
        for (int i = 0; i < blocks; i++) {
            long at = offset + (long) i * dtype.blockBytes();
            int to = dstOffset + i * dtype.blockSize();
            switch (dtype) {
                case F32 -> dst[to] = src.get(F32_LE, at);
                case F16 -> dst[to] = f16(src, at);
                case BF16 -> dst[to] = Float.intBitsToFloat((src.get(I16_LE, at) & 0xFFFF) << 16);
                case F8_E4M3 -> dst[to] = e4m3(src.get(ValueLayout.JAVA_BYTE, at));
                case Q8_0 -> q8_0(src, at, dst, to);
                case Q4_0 -> q4_0(src, at, dst, to);
                case Q4_K -> q4_K(src, at, dst, to);
                case Q6_K -> q6_K(src, at, dst, to);
                default -> throw new UnsupportedOperationException("decoding " + dtype + " to floats is not implemented");
            }
        }
    }

    static float f16(MemorySegment src, long offset) {
        return Float.float16ToFloat(src.get(I16_LE, offset));
    }

    static int unsignedByte(MemorySegment src, long offset) {
        return src.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** OCP FP8 E4M3 in its finite-only form: exponent bias 7, no infinities, {@code S.1111.111} is NaN. */
    static float e4m3(byte value) {
        int exponent = (value >>> 3) & 0x0F;
        int mantissa = value & 0x07;
        float magnitude;
        if (exponent == 0x0F && mantissa == 0x07) {
            magnitude = Float.NaN;
        } else if (exponent == 0) {
            magnitude = mantissa * 0x1p-9f;
        } else {
            magnitude = Math.scalb(1f + mantissa / 8f, exponent - 7);
        }
        return value < 0 ? -magnitude : magnitude;
    }

    /** Decodes a Q8_0 block (34 bytes): an F16 scale {@code d}, then 32 signed bytes {@code q}, with {@code w = d·q}. */
    private static void q8_0(MemorySegment src, long block, float[] dst, int to) {
        float d = f16(src, block);
        for (int j = 0; j < 32; j++) {
            dst[to + j] = d * src.get(ValueLayout.JAVA_BYTE, block + 2 + j);
        }
    }

    /**
     * Decodes a Q4_0 block (18 bytes): an F16 scale {@code d}, then 16 bytes whose low nibbles are
     * elements 0..15 and high nibbles elements 16..31, with {@code w = d·(q - 8)}.
     */
    private static void q4_0(MemorySegment src, long block, float[] dst, int to) {
        float d = f16(src, block);
        for (int j = 0; j < 16; j++) {
            int packed = unsignedByte(src, block + 2 + j);
            dst[to + j] = d * ((packed & 0x0F) - 8);
            dst[to + j + 16] = d * ((packed >>> 4) - 8);
        }
    }

    /**
     * Decodes a Q4_K super-block (144 bytes, 256 elements): F16 {@code d} and {@code dmin}, 12
     * bytes packing eight 6-bit scales and eight 6-bit minimums, then 128 bytes of 4-bit codes,
     * with {@code w = d·scale·q - dmin·min} per sub-block of 32. The low nibbles of code bytes
     * {@code [32i, 32i + 32)} are sub-block {@code 2i} and their high nibbles sub-block {@code 2i + 1}.
     */
    private static void q4_K(MemorySegment src, long block, float[] dst, int to) {
        float d = f16(src, block);
        float dmin = f16(src, block + 2);
        for (int group = 0; group < 4; group++) {
            float lowScale = d * q4_KScale(src, block, 2 * group);
            float lowMin = dmin * q4_KMin(src, block, 2 * group);
            float highScale = d * q4_KScale(src, block, 2 * group + 1);
            float highMin = dmin * q4_KMin(src, block, 2 * group + 1);
            for (int l = 0; l < 32; l++) {
                int packed = unsignedByte(src, block + Q4_K_QS + 32 * group + l);
                dst[to + 64 * group + l] = lowScale * (packed & 0x0F) - lowMin;
                dst[to + 64 * group + 32 + l] = highScale * (packed >>> 4) - highMin;
            }
        }
    }

    /** Returns the 6-bit scale of sub-block {@code j} (0..7) of the Q4_K super-block at {@code block}. */
    static int q4_KScale(MemorySegment src, long block, int j) {
        long scales = block + 4;
        if (j < 4) {
            return unsignedByte(src, scales + j) & 63;
        }
        return (unsignedByte(src, scales + j + 4) & 0x0F) | ((unsignedByte(src, scales + j - 4) >>> 6) << 4);
    }

    /** Returns the 6-bit minimum of sub-block {@code j} (0..7) of the Q4_K super-block at {@code block}. */
    static int q4_KMin(MemorySegment src, long block, int j) {
        long scales = block + 4;
        if (j < 4) {
            return unsignedByte(src, scales + j + 4) & 63;
        }
        return (unsignedByte(src, scales + j + 4) >>> 4) | ((unsignedByte(src, scales + j) >>> 6) << 4);
    }

    /**
     * Returns the signed scale of elements {@code [16·group, 16·group + 16)} of the Q6_K
     * super-block at {@code block}. ggml indexes the scales as {@code 8·half + l/16 + 2k} for
     * element {@code 128·half + 32k + l}, which is that element's group of 16.
     */
    static int q6_KScale(MemorySegment src, long block, int group) {
        return src.get(ValueLayout.JAVA_BYTE, block + Q6_K_SCALES + group);
    }

    /**
     * Decodes a Q6_K super-block (210 bytes, 256 elements): 128 bytes of low 4 bits, 64 bytes of
     * high 2 bits, 16 signed 8-bit scales (one per 16 elements), then F16 {@code d}, with
     * {@code w = d·scale·(q - 32)}. Each half of 128 elements uses 64 low bytes and 32 high bytes.
     * Its element {@code l + 32k} ({@code l < 32}, {@code k < 4}) takes nibble {@code k / 2} of low
     * byte {@code l + 32·(k % 2)} and bits {@code 2k, 2k+1} of high byte {@code l}.
     */
    private static void q6_K(MemorySegment src, long block, float[] dst, int to) {
        float d = f16(src, block + Q6_K_D);
        for (int half = 0; half < 2; half++) {
            long low = block + 64L * half;
            long high = block + Q6_K_QH + 32L * half;
            long scales = block + Q6_K_SCALES + 8L * half;
            for (int l = 0; l < 32; l++) {
                int highBits = unsignedByte(src, high + l);
                for (int k = 0; k < 4; k++) {
                    int lowByte = unsignedByte(src, low + l + 32 * (k % 2));
                    int q = ((k < 2 ? lowByte & 0x0F : lowByte >>> 4) | (((highBits >>> (2 * k)) & 3) << 4)) - 32;
                    float scale = src.get(ValueLayout.JAVA_BYTE, scales + l / 16 + 2 * k);
                    dst[to + 128 * half + 32 * k + l] = d * scale * q;
                }
            }
        }
    }
}
