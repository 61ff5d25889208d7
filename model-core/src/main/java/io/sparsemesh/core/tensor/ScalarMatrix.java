package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A mapped matrix of any type that {@link Kernels} handles, decoded by scalar code. On the
 * {@link KernelBackend#SCALAR} backend its matmul is the scalar loops of
 * {@link Kernels#dot(DType, MemorySegment, long, float[], int, int)}. On the vector backend, where
 * it serves block types on 128-bit vectors, it feeds the decoded panels to the vector tiles.
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
        if (KernelBackend.current() == KernelBackend.VECTOR) {
            super.matmulRows(x, xOffset, out, outOffset, batch, fromRow, toRow);
            return;
        }
        for (int r = fromRow; r < toRow; r++) {
            for (int b = 0; b < batch; b++) {
                out[outOffset + b * rows + r] = Kernels.dot(dtype(), weights, r * rowBytes, x, xOffset + b * cols, cols);
            }
        }
    }
}
