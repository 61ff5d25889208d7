package io.sparsemesh.core.layer;

/**
 * Root-mean-square normalisation with a learned per-channel weight:
 * {@code y = x / sqrt(mean(x²) + eps) · weight}.
 */
public final class RmsNorm {

    private final float[] weight; // [dim]
    private final float eps;

    public RmsNorm(float[] weight, float eps) {
        this.weight = weight;
        this.eps = eps;
    }

    public int dim() {
        return weight.length;
    }

    /** Normalises each of {@code rows} rows of {@code x} into {@code out} (they may be the same array). */
    public void forward(float[] x, int xOffset, float[] out, int outOffset, int rows) {
        int dim = weight.length;
        for (int r = 0; r < rows; r++) {
            int in = xOffset + r * dim;
            int to = outOffset + r * dim;
            double sumOfSquares = 0;
            for (int i = 0; i < dim; i++) {
                sumOfSquares += (double) x[in + i] * x[in + i];
            }
            float scale = (float) (1.0 / Math.sqrt(sumOfSquares / dim + eps));
            for (int i = 0; i < dim; i++) {
                out[to + i] = x[in + i] * scale * weight[i];
            }
        }
    }

    public void forward(float[] x, float[] out, int rows) {
        forward(x, 0, out, 0, rows);
    }
}
