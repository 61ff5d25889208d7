package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes GGML quantised blocks from chosen integer codes and scales, following the packing of
 * ggml's {@code quantize_row_*_ref} in {@code ggml-quants.c}. Tests decode the result and compare
 * it with values computed from the same codes, which checks the decoders against the writer's
 * side of the format.
 */
final class GgmlBlocks {

    private GgmlBlocks() {
    }

    /** Writes a Q8_0 block: scale {@code d} and 32 codes in [-128, 127]. */
    static void q8_0(MemorySegment block, float d, int[] q) {
        block.set(TestWeights.I16_LE, 0, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            block.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) q[j]);
        }
    }

    /** Writes a Q4_0 block: scale {@code d} and 32 codes in [0, 15]. */
    static void q4_0(MemorySegment block, float d, int[] q) {
        block.set(TestWeights.I16_LE, 0, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            block.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (q[j] | (q[j + 16] << 4)));
        }
    }

    /** Writes a Q4_K super-block: {@code d}, {@code dmin}, eight 6-bit scales and minimums, 256 codes in [0, 15]. */
    static void q4_K(MemorySegment block, float d, float dmin, int[] scales, int[] mins, int[] q) {
        block.set(TestWeights.I16_LE, 0, Float.floatToFloat16(d));
        block.set(TestWeights.I16_LE, 2, Float.floatToFloat16(dmin));
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            int ls = scales[j];
            int lm = mins[j];
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0x0F) | ((lm & 0x0F) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
        MemorySegment.copy(MemorySegment.ofArray(packed), 0, block, 4, 12);
        for (int group = 0; group < 4; group++) {
            for (int l = 0; l < 32; l++) {
                int low = q[64 * group + l];
                int high = q[64 * group + 32 + l];
                block.set(ValueLayout.JAVA_BYTE, 16 + 32 * group + l, (byte) (low | (high << 4)));
            }
        }
    }

    /** Writes a Q6_K super-block: {@code d}, sixteen signed 8-bit scales, 256 codes in [0, 63] (stored offset by 32). */
    static void q6_K(MemorySegment block, float d, int[] scales, int[] q) {
        for (int half = 0; half < 2; half++) {
            int base = 128 * half;
            for (int l = 0; l < 32; l++) {
                int q1 = q[base + l];
                int q2 = q[base + l + 32];
                int q3 = q[base + l + 64];
                int q4 = q[base + l + 96];
                block.set(ValueLayout.JAVA_BYTE, 64L * half + l, (byte) ((q1 & 0x0F) | ((q3 & 0x0F) << 4)));
                block.set(ValueLayout.JAVA_BYTE, 64L * half + l + 32, (byte) ((q2 & 0x0F) | ((q4 & 0x0F) << 4)));
                int highBits = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
                block.set(ValueLayout.JAVA_BYTE, 128 + 32L * half + l, (byte) highBits);
            }
        }
        for (int i = 0; i < 16; i++) {
            block.set(ValueLayout.JAVA_BYTE, 192 + i, (byte) scales[i]);
        }
        block.set(TestWeights.I16_LE, 208, Float.floatToFloat16(d));
    }

    /**
     * Encodes {@code values} as {@code dtype} the way ggml's reference quantisers do: Q8_0 with
     * {@code d = max|v| / 127} and rounded codes, Q4_0 with {@code d = v_maxabs / -8} and codes
     * {@code min(15, (int) (v/d + 8.5))}. F16 and BF16 round to nearest even.
     */
    static MemorySegment quantize(DType dtype, float[] values, java.lang.foreign.Arena arena) {
        MemorySegment out = arena.allocate(dtype.bytesFor(values.length));
        switch (dtype) {
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    out.set(TestWeights.I16_LE, 2L * i, Float.floatToFloat16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    int bits = Float.floatToRawIntBits(values[i]);
                    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
                    out.set(TestWeights.I16_LE, 2L * i, (short) (rounded >>> 16));
                }
            }
            case Q8_0 -> {
                for (int block = 0; block < values.length / 32; block++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(values[32 * block + j]));
                    }
                    float d = amax / 127;
                    int[] q = new int[32];
                    for (int j = 0; j < 32; j++) {
                        q[j] = d == 0 ? 0 : Math.round(values[32 * block + j] / d);
                    }
                    q8_0(out.asSlice(34L * block, 34), d, q);
                }
            }
            case Q4_0 -> {
                for (int block = 0; block < values.length / 32; block++) {
                    float max = 0;
                    for (int j = 0; j < 32; j++) {
                        float v = values[32 * block + j];
                        max = Math.abs(v) > Math.abs(max) ? v : max;
                    }
                    float d = max / -8;
                    int[] q = new int[32];
                    for (int j = 0; j < 32; j++) {
                        q[j] = d == 0 ? 8 : Math.min(15, (int) (values[32 * block + j] / d + 8.5f));
                    }
                    q4_0(out.asSlice(18L * block, 18), d, q);
                }
            }
            default -> throw new IllegalArgumentException("no test quantiser for " + dtype);
        }
        return out;
    }
}
