package io.sparsemesh.core.engine;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.tensor.Matrix;

/**
 * An independent, deliberately slow Llama forward pass for tests: plain double-precision loops,
 * no cache, the whole sequence recomputed for every token, interleaved RoPE written out inline.
 */
final class NaiveLlama {

    private final ModelConfig c;
    private final TensorStore store;
    private final java.util.Map<String, double[][]> cache = new java.util.HashMap<>();

    NaiveLlama(ModelConfig config, TensorStore store) {
        this.c = config;
        this.store = store;
    }

    /** Returns the logits after the last token of {@code tokens}. */
    double[] lastLogits(int[] tokens) {
        int n = tokens.length;
        int dim = c.hiddenSize();
        int headDim = c.headDim();
        int kvDim = c.numKvHeads() * headDim;
        double[][] x = new double[n][];
        double[][] embed = weights("model.embed_tokens.weight", c.vocabSize(), dim);
        for (int t = 0; t < n; t++) {
            x[t] = embed[tokens[t]].clone();
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] wq = weights(p + "self_attn.q_proj.weight", dim, dim);
            double[][] wk = weights(p + "self_attn.k_proj.weight", kvDim, dim);
            double[][] wv = weights(p + "self_attn.v_proj.weight", kvDim, dim);
            double[][] wo = weights(p + "self_attn.o_proj.weight", dim, dim);
            float[] attnNorm = store.vector(p + "input_layernorm.weight", dim);
            float[] ffnNorm = store.vector(p + "post_attention_layernorm.weight", dim);
            int hidden = c.intermediateSize();
            double[][] w1 = weights(p + "mlp.gate_proj.weight", hidden, dim);
            double[][] w3 = weights(p + "mlp.up_proj.weight", hidden, dim);
            double[][] w2 = weights(p + "mlp.down_proj.weight", dim, hidden);

            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], attnNorm);
                q[t] = rope(mul(wq, h), t, headDim);
                k[t] = rope(mul(wk, h), t, headDim);
                v[t] = mul(wv, h);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[dim];
                int group = c.numHeads() / c.numKvHeads();
                for (int head = 0; head < c.numHeads(); head++) {
                    int kvOff = (head / group) * headDim;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < headDim; i++) {
                            d += q[t][head * headDim + i] * k[u][kvOff + i];
                        }
                        s[u] = d / Math.sqrt(headDim);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        s[u] = Math.exp(s[u] - max);
                        sum += s[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < headDim; i++) {
                            att[head * headDim + i] += s[u] / sum * v[u][kvOff + i];
                        }
                    }
                }
                add(x[t], mul(wo, att));
            }
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], ffnNorm);
                double[] g = mul(w1, h);
                double[] up = mul(w3, h);
                for (int i = 0; i < hidden; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * up[i];
                }
                add(x[t], mul(w2, g));
            }
        }
        double[] last = rmsNorm(x[n - 1], store.vector("model.norm.weight", dim));
        double[][] head = store.contains("lm_head.weight")
                ? weights("lm_head.weight", c.vocabSize(), dim) : embed;
        return mul(head, last);
    }

    private double[] rope(double[] v, int position, int headDim) {
        for (int h = 0; h < v.length / headDim; h++) {
            for (int i = 0; i < headDim; i += 2) {
                double freq = 1.0 / Math.pow(c.rope().theta(), (double) i / headDim);
                double angle = position * freq;
                int a = h * headDim + i;
                double x0 = v[a];
                double x1 = v[a + 1];
                v[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                v[a + 1] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
            }
        }
        return v;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double value : x) {
            ss += value * value;
        }
        double scale = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    private static double[] mul(double[][] w, double[] x) {
        double[] out = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double sum = 0;
            for (int col = 0; col < x.length; col++) {
                sum += w[r][col] * x[col];
            }
            out[r] = sum;
        }
        return out;
    }

    /** Reads a weight matrix once, element by element through {@link Matrix#get}, as doubles. */
    private double[][] weights(String name, int rows, int cols) {
        return cache.computeIfAbsent(name, key -> {
            Matrix m = store.matrix(key, rows, cols);
            double[][] out = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int col = 0; col < cols; col++) {
                    out[r][col] = m.get(r, col);
                }
            }
            return out;
        });
    }

    private static void add(double[] x, double[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }
}
