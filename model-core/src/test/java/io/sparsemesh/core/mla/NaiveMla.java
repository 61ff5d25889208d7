package io.sparsemesh.core.mla;

import io.sparsemesh.core.config.IndexerConfig;
import io.sparsemesh.core.config.MlaConfig;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.testing.HeapTensorStore;

/**
 * Textbook MLA and lightning indexer in double precision, straight from the raw weights: every
 * key and value is rebuilt from the inputs of its position, with no cache, no absorption and no
 * batching. Tests compare the layer classes against it.
 */
final class NaiveMla {

    private final ModelConfig config;
    private final MlaConfig mla;
    private final HeapTensorStore store;
    private final String prefix;

    NaiveMla(ModelConfig config, HeapTensorStore store, int layer) {
        this.config = config;
        this.mla = config.mla();
        this.store = store;
        this.prefix = "model.layers." + layer + ".self_attn.";
    }

    /**
     * Attention output of the token at position {@code t} of a sequence whose normalised inputs are
     * {@code inputs[0..t]}, attending only to {@code allowed} positions.
     */
    double[] attention(float[][] inputs, int t, int[] allowed) {
        int heads = config.numHeads();
        int nope = mla.qkNopeHeadDim();
        int rope = mla.qkRopeHeadDim();
        int v = mla.vHeadDim();
        double scale = softmaxScale();
        double[] query = queries(inputs[t], t);
        double[] concatenated = new double[heads * v];

        for (int h = 0; h < heads; h++) {
            double[] scores = new double[allowed.length];
            double[][] values = new double[allowed.length][];
            for (int i = 0; i < allowed.length; i++) {
                int s = allowed[i];
                double[] latent = latent(inputs[s]);
                double[] ropeKey = ropeKey(inputs[s], s);
                double[] keyValue = matvec(weights("kv_b_proj.weight"), mla.kvLoraRank(), latent,
                        h * (nope + v), nope + v);
                double dot = 0;
                for (int d = 0; d < nope; d++) {
                    dot += query[h * (nope + rope) + d] * keyValue[d];
                }
                for (int d = 0; d < rope; d++) {
                    dot += query[h * (nope + rope) + nope + d] * ropeKey[d];
                }
                scores[i] = dot * scale;
                values[i] = java.util.Arrays.copyOfRange(keyValue, nope, nope + v);
            }
            double[] probabilities = softmax(scores);
            for (int i = 0; i < allowed.length; i++) {
                for (int d = 0; d < v; d++) {
                    concatenated[h * v + d] += probabilities[i] * values[i][d];
                }
            }
        }
        return matvec(weights("o_proj.weight"), heads * v, concatenated, 0, config.hiddenSize());
    }

    /** Index scores {@code I(t,s)} for {@code s = 0..t}. */
    double[] indexScores(float[][] inputs, int t) {
        IndexerConfig indexer = config.indexer();
        int heads = indexer.nHeads();
        int dim = indexer.headDim();
        double[] queryLatent = rmsNorm(matvec(weights("q_a_proj.weight"), config.hiddenSize(), toDouble(inputs[t]), 0,
                mla.qLoraRank()), weights("q_a_layernorm.weight"));
        double[] queries = matvec(weights("indexer.wq_b.weight"), mla.qLoraRank(), queryLatent, 0, heads * dim);
        for (int j = 0; j < heads; j++) {
            rotate(queries, j * dim, indexer.ropeDim(), t, indexer.ropeLayout());
        }
        double[] headWeights = matvec(weights("indexer.weights_proj.weight"), config.hiddenSize(), toDouble(inputs[t]), 0,
                heads);

        double[] scores = new double[t + 1];
        for (int s = 0; s <= t; s++) {
            double[] key = layerNorm(matvec(weights("indexer.wk.weight"), config.hiddenSize(), toDouble(inputs[s]), 0, dim),
                    weights("indexer.k_norm.weight"), weights("indexer.k_norm.bias"));
            rotate(key, 0, indexer.ropeDim(), s, indexer.ropeLayout());
            for (int j = 0; j < heads; j++) {
                double dot = 0;
                for (int d = 0; d < dim; d++) {
                    dot += queries[j * dim + d] * key[d];
                }
                scores[s] += headWeights[j] / Math.sqrt(heads) * Math.max(0, dot / Math.sqrt(dim));
            }
        }
        return scores;
    }

    private double softmaxScale() {
        double scale = 1.0 / Math.sqrt(mla.qkHeadDim());
        var yarn = config.rope().yarn();
        if (yarn != null && yarn.mscaleAllDim() != 0 && yarn.factor() > 1) {
            double mscale = 0.1 * yarn.mscaleAllDim() * Math.log(yarn.factor()) + 1;
            scale *= mscale * mscale;
        }
        return scale;
    }

    private double[] queries(float[] input, int position) {
        int width = config.numHeads() * mla.qkHeadDim();
        double[] query;
        if (mla.qLoraRank() > 0) {
            double[] latent = rmsNorm(matvec(weights("q_a_proj.weight"), config.hiddenSize(), toDouble(input), 0,
                    mla.qLoraRank()), weights("q_a_layernorm.weight"));
            query = matvec(weights("q_b_proj.weight"), mla.qLoraRank(), latent, 0, width);
        } else {
            query = matvec(weights("q_proj.weight"), config.hiddenSize(), toDouble(input), 0, width);
        }
        for (int h = 0; h < config.numHeads(); h++) {
            rotate(query, h * mla.qkHeadDim() + mla.qkNopeHeadDim(), mla.qkRopeHeadDim(), position, config.rope().layout());
        }
        return query;
    }

    private double[] latent(float[] input) {
        double[] compressed = matvec(weights("kv_a_proj_with_mqa.weight"), config.hiddenSize(), toDouble(input), 0,
                mla.kvLoraRank());
        return rmsNorm(compressed, weights("kv_a_layernorm.weight"));
    }

    private double[] ropeKey(float[] input, int position) {
        double[] key = matvec(weights("kv_a_proj_with_mqa.weight"), config.hiddenSize(), toDouble(input),
                mla.kvLoraRank(), mla.qkRopeHeadDim());
        rotate(key, 0, mla.qkRopeHeadDim(), position, config.rope().layout());
        return key;
    }

    /** Rotates {@code x[offset .. offset + dim)} by plain RoPE frequencies {@code theta^(-2i/dim)}. */
    private void rotate(double[] x, int offset, int dim, int position, RopeLayout layout) {
        for (int i = 0; i < dim / 2; i++) {
            double angle = position * Math.pow(config.rope().theta(), -2.0 * i / dim);
            int a = layout == RopeLayout.INTERLEAVED ? offset + 2 * i : offset + i;
            int b = layout == RopeLayout.INTERLEAVED ? a + 1 : a + dim / 2;
            double x0 = x[a];
            double x1 = x[b];
            x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
            x[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
        }
    }

    private float[] weights(String name) {
        return store.floats(prefix + name);
    }

    /** Rows {@code [firstRow, firstRow + rows)} of the {@code ? × cols} matrix {@code w} times {@code x}. */
    static double[] matvec(float[] w, int cols, double[] x, int firstRow, int rows) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += w[(firstRow + r) * cols + c] * x[c];
            }
            out[r] = sum;
        }
        return out;
    }

    static double[] rmsNorm(double[] x, float[] weight) {
        double squares = 0;
        for (double value : x) {
            squares += value * value;
        }
        double scale = 1 / Math.sqrt(squares / x.length + 1e-6);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    static double[] layerNorm(double[] x, float[] weight, float[] bias) {
        double mean = java.util.Arrays.stream(x).average().orElseThrow();
        double variance = java.util.Arrays.stream(x).map(value -> (value - mean) * (value - mean)).average().orElseThrow();
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - mean) / Math.sqrt(variance + 1e-6) * weight[i] + bias[i];
        }
        return out;
    }

    static double[] softmax(double[] x) {
        double max = java.util.Arrays.stream(x).max().orElseThrow();
        double[] out = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.exp(x[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < x.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    static double[] toDouble(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }
}
