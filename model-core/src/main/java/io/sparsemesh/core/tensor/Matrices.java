package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Builds {@link Matrix} instances over checkpoint bytes. Checkpoint readers call these factories
 * and never construct matrix classes themselves, so the kernel choice stays in one place.
 */
public final class Matrices {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private Matrices() {
    }

    /**
     * Wraps {@code segment}, which holds a {@code rows × cols} matrix of {@code dtype} in
     * little-endian row-major order, as a matrix.
     */
    public static Matrix mapped(DType dtype, MemorySegment segment, int rows, int cols) {
        long expected = dtype.bytesFor((long) rows * cols);
        if (segment.byteSize() < expected) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " " + dtype + " matrix needs " + expected
                    + " bytes, the segment has " + segment.byteSize());
        }
        // NOTE: placeholder that dequantises to the heap; mapped, vectorised matrices replace it.
        return new FloatMatrix(toFloats(dtype, segment, (long) rows * cols), rows, cols);
    }

    /** Decodes {@code count} values of {@code dtype} from {@code segment} into a new float array. */
    public static float[] toFloats(DType dtype, MemorySegment segment, long count) {
        float[] out = new float[Math.toIntExact(count)];
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = segment.get(F32_LE, 4L * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(segment.get(I16_LE, 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((segment.get(I16_LE, 2L * i) & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> {
                for (int block = 0; block < out.length / 32; block++) {
                    long base = 34L * block;
                    float scale = Float.float16ToFloat(segment.get(I16_LE, base));
                    for (int j = 0; j < 32; j++) {
                        out[block * 32 + j] = scale * segment.get(ValueLayout.JAVA_BYTE, base + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int block = 0; block < out.length / 32; block++) {
                    long base = 18L * block;
                    float scale = Float.float16ToFloat(segment.get(I16_LE, base));
                    for (int j = 0; j < 16; j++) {
                        int packed = segment.get(ValueLayout.JAVA_BYTE, base + 2 + j) & 0xFF;
                        out[block * 32 + j] = scale * ((packed & 0x0F) - 8);
                        out[block * 32 + j + 16] = scale * ((packed >>> 4) - 8);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("decoding " + dtype + " is not implemented");
        }
        return out;
    }
}
