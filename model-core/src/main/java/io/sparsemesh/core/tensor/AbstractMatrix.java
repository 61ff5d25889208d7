package io.sparsemesh.core.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Base of the matrix classes in this package: {@link #matmul} checks its arguments once, then the
 * {@link KernelPool} splits the output rows among threads, each of which calls {@link #matmulRows}.
 */
abstract class AbstractMatrix implements Matrix {

    @Override
    public final void matmul(float[] x, int xOffset, float[] out, int outOffset, int batch) {
        int rows = rows();
        int cols = cols();
        if (batch < 0) {
            throw new IllegalArgumentException("batch must not be negative, got " + batch);
        }
        Objects.checkFromIndexSize(xOffset, Math.multiplyExact(batch, cols), Objects.requireNonNull(x, "x").length);
        Objects.checkFromIndexSize(outOffset, Math.multiplyExact(batch, rows), Objects.requireNonNull(out, "out").length);
        if (batch == 0 || rows == 0) {
            return;
        }
        if (cols == 0) {
            Arrays.fill(out, outOffset, outOffset + batch * rows, 0f);
            return;
        }

        long work = (long) rows * cols * batch;
        if (parallelSafe()) {
            KernelPool.shared().matmul(this, rows, work, x, xOffset, out, outOffset, batch);
        } else {
            matmulRows(x, xOffset, out, outOffset, batch, 0, rows);
        }
    }

    /**
     * Computes {@code out[outOffset + b·rows() + r]} for {@code fromRow <= r < toRow} and every
     * {@code b < batch}. The arguments have been checked by {@link #matmul}.
     */
    abstract void matmulRows(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow);

    /** Returns whether kernel worker threads may read this matrix's storage. */
    boolean parallelSafe() {
        return true;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + rows() + "x" + cols() + " " + dtype() + "]";
    }
}
