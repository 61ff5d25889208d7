package io.sparsemesh.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random weights and activations for kernel tests. */
final class TestWeights {

    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestWeights() {
    }

    /**
     * Returns {@code rows × cols} random weights of {@code dtype}. Plain types hold values in
     * [-1, 1); block types hold random bytes with random finite scales, which makes every code,
     * nibble and packed scale bit pattern appear.
     */
    static MemorySegment random(DType dtype, int rows, int cols, long seed, Arena arena) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment segment = arena.allocate(dtype.bytesFor((long) rows * cols));
        long size = segment.byteSize();
        switch (dtype) {
            case F32 -> {
                for (long at = 0; at < size; at += 4) {
                    segment.set(F32_LE, at, uniform(random));
                }
            }
            case F16 -> {
                for (long at = 0; at < size; at += 2) {
                    segment.set(I16_LE, at, Float.floatToFloat16(uniform(random)));
                }
            }
            case BF16 -> {
                for (long at = 0; at < size; at += 2) {
                    segment.set(I16_LE, at, (short) (Float.floatToRawIntBits(uniform(random)) >>> 16));
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                for (long at = 0; at < size; at++) {
                    segment.set(ValueLayout.JAVA_BYTE, at, (byte) random.nextInt());
                }
                for (long block = 0; block < size; block += dtype.blockBytes()) {
                    for (int scale : scaleOffsets(dtype)) {
                        float value = (float) random.nextDouble(1e-3, 1e-1);
                        segment.set(I16_LE, block + scale, Float.floatToFloat16(value));
                    }
                }
            }
            default -> throw new IllegalArgumentException("no random weights for " + dtype);
        }
        return segment;
    }

    /** Byte offsets of the F16 scales inside one block. */
    private static int[] scaleOffsets(DType dtype) {
        return switch (dtype) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
    }

    static float[] activations(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[count];
        for (int i = 0; i < x.length; i++) {
            x[i] = uniform(random);
        }
        return x;
    }

    private static float uniform(SplittableRandom random) {
        return (float) random.nextDouble(-1, 1);
    }

    /** Returns {@code Σ_c |w[r][c] · x[b][c]|} for every {@code (b, r)}: the scale of the rounding error of each output. */
    static float[] magnitudes(float[] w, int rows, int cols, float[] x, int batch) {
        float[] sums = new float[batch * rows];
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += Math.abs((double) w[r * cols + c] * x[b * cols + c]);
                }
                sums[b * rows + r] = (float) sum;
            }
        }
        return sums;
    }
}
