package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.Matrix;

/** Reads whole tensors of a {@link TensorStore} as floats, for tests that compare stores. */
final class TensorValues {

    private TensorValues() {
    }

    /** Returns the values of a 1-D or 2-D tensor of {@code shape} in row-major order. */
    static float[] read(TensorStore store, String name, long[] shape) {
        if (shape.length == 1) {
            return store.vector(name, (int) shape[0]);
        }
        Matrix matrix = store.matrix(name, (int) shape[0], (int) shape[1]);
        float[] out = new float[matrix.rows() * matrix.cols()];
        for (int r = 0; r < matrix.rows(); r++) {
            matrix.copyRow(r, out, r * matrix.cols());
        }
        return out;
    }
}
