package io.sparsemesh.core.tensor;

/**
 * Scalar reference kernels. Vectorised kernels must agree with these; tests compare the two.
 */
public final class Kernels {

    private Kernels() {
    }

    /** {@code out[b·rows + r] = Σ_c w[r][c] · x[b·cols + c]}, a plain triple loop. */
    public static void matmul(float[] w, int wOffset, int rows, int cols,
                              float[] x, int xOffset, float[] out, int outOffset, int batch) {
        for (int b = 0; b < batch; b++) {
            int xRow = xOffset + b * cols;
            for (int r = 0; r < rows; r++) {
                int wRow = wOffset + r * cols;
                float sum = 0f;
                for (int c = 0; c < cols; c++) {
                    sum += w[wRow + c] * x[xRow + c];
                }
                out[outOffset + b * rows + r] = sum;
            }
        }
    }
}
