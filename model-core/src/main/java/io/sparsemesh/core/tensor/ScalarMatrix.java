package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A mapped matrix of any type that {@link Kernels#dot(DType, MemorySegment, long, float[], int, int)}
 * handles, computed by its scalar loops: the {@link KernelBackend#SCALAR} backend.
 */
final class ScalarMatrix extends MappedMatrix {

    ScalarMatrix(DType dtype, MemorySegment weights, int rows, int cols) {
        super(dtype, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new ScalarMatrix(dtype(), weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        Dequantize.decode(dtype(), weights, offset, dst, dstOffset, count);
    }

    @Override
    void matmulRows(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow) {
        for (int r = fromRow; r < toRow; r++) {
            for (int b = 0; b < batch; b++) {
                out[outOffset + b * rows + r] = Kernels.dot(dtype(), weights, r * rowBytes, x, xOffset + b * cols, cols);
            }
        }
    }
}
