package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Builds {@link Matrix} instances over checkpoint bytes. Checkpoint readers call these factories
 * and never construct matrix classes themselves, so the kernel choice stays in one place.
 */
public final class Matrices {

    private Matrices() {
    }

    /**
     * Wraps {@code segment}, which contains a {@code rows × cols} matrix of {@code dtype} in
     * little-endian row-major order, as a matrix that reads the segment in place. Each row must be
     * whole blocks of the type. For matmuls split across threads the segment must be readable
     * from any thread (a global, automatic or shared arena); a confined segment is computed on
     * the calling thread only.
     *
     * <p>Types without a kernel of their own ({@link DType#F8_E4M3}) are decoded to a heap
     * {@link FloatMatrix}.
     */
    public static Matrix mapped(DType dtype, MemorySegment segment, int rows, int cols) {
        return switch (KernelBackend.current()) {
            case VECTOR -> VectorMatrices.mapped(dtype, segment, rows, cols);
            case SCALAR -> switch (dtype) {
                case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> new ScalarMatrix(dtype, segment, rows, cols);
                default -> decoded(dtype, segment, rows, cols);
            };
        };
    }

    /** Decodes the matrix into a heap {@link FloatMatrix}; the fallback for types without a kernel. */
    static Matrix decoded(DType dtype, MemorySegment segment, int rows, int cols) {
        long expected = dtype.bytesFor((long) rows * cols);
        if (segment.byteSize() < expected) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " " + dtype + " matrix needs " + expected
                    + " bytes, the segment has " + segment.byteSize());
        }
        return new FloatMatrix(toFloats(dtype, segment, (long) rows * cols), rows, cols);
    }

    /** Decodes {@code count} values of {@code dtype} from {@code segment} into a new float array. */
    public static float[] toFloats(DType dtype, MemorySegment segment, long count) {
        float[] out = new float[Math.toIntExact(count)];
        Dequantize.decode(dtype, segment, 0, out, 0, out.length);
        return out;
    }
}
