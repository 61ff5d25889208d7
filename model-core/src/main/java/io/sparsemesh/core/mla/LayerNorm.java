package io.sparsemesh.core.mla;

/**
 * Layer normalisation with a learned scale and shift: {@code y = (x - mean) / sqrt(var + eps) · weight + bias},
 * the population variance as {@code torch.nn.LayerNorm} computes it. The lightning indexer normalises its keys with it.
 */
final class LayerNorm {

    private final float[] weight; // [dim]
    private final float[] bias;   // [dim]
    private final float eps;

    LayerNorm(float[] weight, float[] bias, float eps) {
        if (weight.length != bias.length) {
            throw new IllegalArgumentException("LayerNorm weight has " + weight.length + " values but bias has " + bias.length);
        }
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    /** Normalises each of {@code rows} rows of {@code x} in place. */
    void forwardInPlace(float[] x, int offset, int rows) {
        int dim = weight.length;
        for (int r = 0; r < rows; r++) {
            int start = offset + r * dim;
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                sum += x[start + i];
            }
            double mean = sum / dim;
            double squares = 0;
            for (int i = 0; i < dim; i++) {
                double centred = x[start + i] - mean;
                squares += centred * centred;
            }
            double inverseStd = 1.0 / Math.sqrt(squares / dim + eps);
            for (int i = 0; i < dim; i++) {
                x[start + i] = (float) ((x[start + i] - mean) * inverseStd) * weight[i] + bias[i];
            }
        }
    }
}
