package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/** Picks the Vector API matrix class of each stored type; loaded only by the {@link KernelBackend#VECTOR} backend. */
final class VectorMatrices {

    private VectorMatrices() {
    }

    /**
     * Returns the matrix class of {@code dtype}. With 4 float lanes no byte vector is as narrow,
     * so block types decode with scalar code there and keep the vector tiles.
     */
    static Matrix mapped(DType dtype, MemorySegment segment, int rows, int cols) {
        boolean bytes = Lanes.decodesBytes();
        return switch (dtype) {
            case F32 -> new F32Matrix(segment, rows, cols);
            case F16 -> new F16Matrix(segment, rows, cols);
            case BF16 -> new Bf16Matrix(segment, rows, cols);
            case Q8_0 -> bytes ? new Q8_0Matrix(segment, rows, cols) : new ScalarMatrix(dtype, segment, rows, cols);
            case Q4_0 -> bytes ? new Q4_0Matrix(segment, rows, cols) : new ScalarMatrix(dtype, segment, rows, cols);
            case Q4_K -> bytes ? new Q4_KMatrix(segment, rows, cols) : new ScalarMatrix(dtype, segment, rows, cols);
            case Q6_K -> bytes ? new Q6_KMatrix(segment, rows, cols) : new ScalarMatrix(dtype, segment, rows, cols);
            default -> Matrices.decoded(dtype, segment, rows, cols);
        };
    }
}
