package io.sparsemesh.core.gqa;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.layer.Rope;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

/**
 * Llama-style grouped-query attention: {@code numHeads} query heads share {@code numKvHeads}
 * key/value heads, RoPE on queries and keys, causal softmax attention over the sequence's cache.
 */
public final class GroupedQueryAttention implements AttentionLayer {

    private enum Buffer { Q, K, V, SCORES, MIXED }

    private final int layer;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final Rope rope;
    private final Matrix qProj; // [numHeads·headDim, hidden]
    private final Matrix kProj; // [numKvHeads·headDim, hidden]
    private final Matrix vProj; // [numKvHeads·headDim, hidden]
    private final Matrix oProj; // [hidden, numHeads·headDim]

    public GroupedQueryAttention(int layer, int numHeads, int numKvHeads, int headDim, Rope rope,
                                 Matrix qProj, Matrix kProj, Matrix vProj, Matrix oProj) {
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException(numHeads + " query heads cannot share " + numKvHeads + " KV heads evenly");
        }
        this.layer = layer;
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.rope = rope;
        this.qProj = qProj;
        this.kProj = kProj;
        this.vProj = vProj;
        this.oProj = oProj;
    }

    /** Loads layer {@code layer}'s projections from {@code model.layers.<layer>.self_attn}. */
    public static GroupedQueryAttention load(TensorStore store, ModelConfig config, int layer) {
        String prefix = "model.layers." + layer + ".self_attn.";
        int hidden = config.hiddenSize();
        int qDim = config.numHeads() * config.headDim();
        int kvDim = config.numKvHeads() * config.headDim();
        return new GroupedQueryAttention(layer, config.numHeads(), config.numKvHeads(), config.headDim(),
                new Rope(config.rope()),
                store.matrix(prefix + "q_proj.weight", qDim, hidden),
                store.matrix(prefix + "k_proj.weight", kvDim, hidden),
                store.matrix(prefix + "v_proj.weight", kvDim, hidden),
                store.matrix(prefix + "o_proj.weight", hidden, qDim));
    }

    @Override
    public int layerIndex() {
        return layer;
    }

    @Override
    public LayerCache newCache(int capacity) {
        return new KvCache(numKvHeads * headDim, capacity);
    }

    @Override
    public long weightBytes() {
        return qProj.byteSize() + kProj.byteSize() + vProj.byteSize() + oProj.byteSize();
    }

    @Override
    public void forward(AttentionBatch batch, float[] input, float[] output) {
        int rows = batch.size();
        int qDim = numHeads * headDim;
        int kvDim = numKvHeads * headDim;
        Workspace workspace = batch.workspace();
        float[] q = workspace.floats(Buffer.Q, rows * qDim);
        float[] k = workspace.floats(Buffer.K, rows * kvDim);
        float[] v = workspace.floats(Buffer.V, rows * kvDim);
        float[] mixed = workspace.floats(Buffer.MIXED, rows * qDim);

        // project queries, keys and values for every row
        qProj.matmul(input, q, rows);
        kProj.matmul(input, k, rows);
        vProj.matmul(input, v, rows);

        // rotate by position and store keys and values in each row's sequence cache
        for (int row = 0; row < rows; row++) {
            int position = batch.position(row);
            for (int h = 0; h < numHeads; h++) {
                rope.rotate(q, row * qDim + h * headDim, position);
            }
            for (int h = 0; h < numKvHeads; h++) {
                rope.rotate(k, row * kvDim + h * headDim, position);
            }
            cacheOf(batch, row).store(position, k, row * kvDim, v, row * kvDim);
        }

        // each row attends causally over its own sequence
        float[] scores = workspace.floats(Buffer.SCORES, maxPosition(batch) + 1);
        for (int row = 0; row < rows; row++) {
            attend(cacheOf(batch, row), batch.position(row), q, row * qDim, mixed, row * qDim, scores);
        }

        // project the heads back to the hidden size
        oProj.matmul(mixed, output, rows);
    }

    /** Softmax attention of every head of one query over cache positions {@code 0 .. position}. */
    private void attend(KvCache cache, int position, float[] q, int qOffset, float[] out, int outOffset,
                        float[] scores) {
        int kvDim = numKvHeads * headDim;
        int headsPerKv = numHeads / numKvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] keys = cache.keys();
        float[] values = cache.values();
        int tokens = position + 1;

        for (int h = 0; h < numHeads; h++) {
            int qHead = qOffset + h * headDim;
            int kvHead = (h / headsPerKv) * headDim;

            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < tokens; t++) {
                scores[t] = dot(q, qHead, keys, t * kvDim + kvHead, headDim) * scale;
                max = Math.max(max, scores[t]);
            }
            float sum = 0f;
            for (int t = 0; t < tokens; t++) {
                scores[t] = (float) Math.exp(scores[t] - max);
                sum += scores[t];
            }

            int outHead = outOffset + h * headDim;
            java.util.Arrays.fill(out, outHead, outHead + headDim, 0f);
            for (int t = 0; t < tokens; t++) {
                float weight = scores[t] / sum;
                int vRow = t * kvDim + kvHead;
                for (int i = 0; i < headDim; i++) {
                    out[outHead + i] += weight * values[vRow + i];
                }
            }
        }
    }

    private static float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        float sum = 0f;
        for (int i = 0; i < length; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    private KvCache cacheOf(AttentionBatch batch, int row) {
        return (KvCache) batch.cache(row, layer);
    }

    private static int maxPosition(AttentionBatch batch) {
        int max = 0;
        for (int row = 0; row < batch.size(); row++) {
            max = Math.max(max, batch.position(row));
        }
        return max;
    }
}
