package io.sparsemesh.core.tensor;

/**
 * A read-only weight matrix of {@code rows × cols} in row-major order, the layout of a PyTorch
 * {@code Linear.weight} ({@code [out_features, in_features]}). Implementations keep the weights
 * in their stored type (mapped file bytes or heap arrays) and dequantise inside the kernel.
 *
 * <p>Activations are plain {@code float[]} arrays holding a batch of rows back to back.
 */
public interface Matrix {

    int rows();

    int cols();

    DType dtype();

    /** Bytes of weight data this matrix reads (its share of mapped or heap memory). */
    long byteSize();

    /**
     * Multiplies this matrix by a batch of column vectors:
     * {@code out[outOffset + b·rows + r] = Σ_c this[r][c] · x[xOffset + b·cols + c]} for every
     * row {@code b < batch}. Allocates nothing.
     */
    void matmul(float[] x, int xOffset, float[] out, int outOffset, int batch);

    default void matmul(float[] x, float[] out, int batch) {
        matmul(x, 0, out, 0, batch);
    }

    /** Returns element {@code [row][col]} as a float (slow path, for tests and lookups). */
    float get(int row, int col);

    /** Writes row {@code row} as floats into {@code dst[dstOffset .. dstOffset + cols)}; used for embedding lookup. */
    void copyRow(int row, float[] dst, int dstOffset);

    /** Returns a view of rows {@code [fromRow, toRow)} that shares this matrix's storage. */
    Matrix rowRange(int fromRow, int toRow);
}
