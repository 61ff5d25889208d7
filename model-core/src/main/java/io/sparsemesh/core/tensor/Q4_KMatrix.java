package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q4_K weights: super-blocks of 256 elements in eight sub-blocks of 32, each with a
 * 6-bit scale and a 6-bit minimum, so {@code w = d·scale·q - dmin·min} for 4-bit codes {@code q}.
 * Each 32 bytes of codes store sub-block {@code 2i} in their low nibbles and {@code 2i + 1} in
 * their high nibbles.
 */
final class Q4_KMatrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final VectorSpecies<Byte> B = Lanes.BYTES;
    private static final ValueLayout.OfLong SCALES_0_TO_7 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt SCALES_8_TO_11 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q4_KMatrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q4_K, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q4_KMatrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        for (int block = 0; block < count / 256; block++) {
            long at = offset + 144L * block;
            float d = Dequantize.f16(weights, at);
            float dmin = Dequantize.f16(weights, at + 2);
            long scales = weights.get(SCALES_0_TO_7, at + 4);
            int scales8to11 = weights.get(SCALES_8_TO_11, at + 12);
            for (int pair = 0; pair < 4; pair++) {
                float lowScale = d * scale(scales, scales8to11, 2 * pair);
                float lowMin = dmin * min(scales, scales8to11, 2 * pair);
                float highScale = d * scale(scales, scales8to11, 2 * pair + 1);
                float highMin = dmin * min(scales, scales8to11, 2 * pair + 1);
                for (int j = 0; j < 32; j += F.length()) {
                    decodeNibbles(at + Dequantize.Q4_K_QS + 32L * pair + j, lowScale, lowMin, highScale, highMin,
                            dst, dstOffset + 256 * block + 64 * pair + j);
                }
            }
        }
    }

    /**
     * Decodes the low nibbles of {@code F.length()} code bytes at {@code packed} into
     * {@code dst[to ..)} and their high nibbles, which belong to the next sub-block, into
     * {@code dst[to + 32 ..)}.
     */
    private void decodeNibbles(long packed, float lowScale, float lowMin, float highScale, float highMin, float[] dst, int to) {
        ByteVector bytes = ByteVector.fromMemorySegment(B, weights, packed, Lanes.ORDER);
        FloatVector low = (FloatVector) bytes.and((byte) 0x0F).convertShape(VectorOperators.B2F, F, 0);
        FloatVector high = (FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0);
        low.mul(lowScale).sub(lowMin).intoArray(dst, to);
        high.mul(highScale).sub(highMin).intoArray(dst, to + 32);
    }

    /** Returns byte {@code k} of the 12 packed scale bytes, read as a long (bytes 0 to 7) and an int (8 to 11). */
    private static int scaleByte(long scales, int scales8to11, int k) {
        return k < 8 ? (int) (scales >>> (8 * k)) & 0xFF : (scales8to11 >>> (8 * (k - 8))) & 0xFF;
    }

    /** Returns the 6-bit scale of sub-block {@code j}, unpacked as {@link Dequantize#q4_KScale} unpacks it from memory. */
    private static int scale(long scales, int scales8to11, int j) {
        if (j < 4) {
            return scaleByte(scales, scales8to11, j) & 63;
        }
        return (scaleByte(scales, scales8to11, j + 4) & 0x0F) | ((scaleByte(scales, scales8to11, j - 4) >>> 6) << 4);
    }

    /** Returns the 6-bit minimum of sub-block {@code j}, unpacked as {@link Dequantize#q4_KMin} unpacks it from memory. */
    private static int min(long scales, int scales8to11, int j) {
        if (j < 4) {
            return scaleByte(scales, scales8to11, j + 4) & 63;
        }
        return (scaleByte(scales, scales8to11, j + 4) >>> 4) | ((scaleByte(scales, scales8to11, j) >>> 6) << 4);
    }
}
