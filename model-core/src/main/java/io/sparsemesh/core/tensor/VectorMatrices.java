package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/** Picks the Vector API matrix class of each stored type; loaded only by the {@link KernelBackend#VECTOR} backend. */
final class VectorMatrices {

    private VectorMatrices() {
    }

    static Matrix mapped(DType dtype, MemorySegment segment, int rows, int cols) {
        return switch (dtype) {
            case F32 -> new F32Matrix(segment, rows, cols);
            case F16 -> new F16Matrix(segment, rows, cols);
            case BF16 -> new Bf16Matrix(segment, rows, cols);
            case Q8_0 -> new Q8_0Matrix(segment, rows, cols);
            case Q4_0 -> new Q4_0Matrix(segment, rows, cols);
            case Q4_K -> new Q4_KMatrix(segment, rows, cols);
            case Q6_K -> new Q6_KMatrix(segment, rows, cols);
            default -> Matrices.decoded(dtype, segment, rows, cols);
        };
    }
}
