package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.IndexerConfig;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.layer.Rope;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

/**
 * The lightning indexer of DeepSeek sparse attention (DeepSeek-V3.2, GLM-5). For a token at
 * position {@code t} it scores every position {@code s ≤ t} with
 * {@code I(t,s) = Σ_j w_{t,j} · ReLU(q_{t,j} · k_s)} and keeps the {@code index_topk} best, which
 * are the only positions the layer's MLA attends to.
 *
 * <p>Queries come from MLA's query latent (after {@code q_a_layernorm}) through {@code wq_b};
 * there is one key per token, {@code k_norm(wk(x))}, cached with the layer's MLA cache. RoPE
 * rotates the first {@code rope_dim} dimensions of each query head and of the key, in the
 * pairing the family uses. The per-head weights are {@code weights_proj(x) · n_heads^-0.5}, and
 * the dot products carry the softmax scale {@code head_dim^-0.5}, as in both references. The
 * references' FP8 quantisation and Hadamard rotation of q and k are left out: the rotation
 * preserves dot products and the quantisation only changes precision.
 */
public final class LightningIndexer {

    /** {@code k_norm}'s epsilon, fixed at 1e-6 in both the DeepSeek and the transformers code. */
    private static final float KEY_NORM_EPS = 1e-6f;

    private enum Buffer { QUERIES, KEYS, HEAD_WEIGHTS, SCORES, SELECTED }

    private final int layer;
    private final int nHeads;
    private final int headDim;
    private final int topK;
    private final Matrix wqB;          // [nHeads·headDim, qLoraRank]
    private final Matrix wk;           // [headDim, hidden]
    private final LayerNorm kNorm;     // [headDim]
    private final Matrix weightsProj;  // [nHeads, hidden]
    private final Rope rope;           // over dims [0, ropeDim) of each query head and of the key
    private final float headWeightScale;

    LightningIndexer(int layer, IndexerConfig config, RopeConfig modelRope, Matrix wqB, Matrix wk, LayerNorm kNorm,
                     Matrix weightsProj) {
        this.layer = layer;
        this.nHeads = config.nHeads();
        this.headDim = config.headDim();
        this.topK = config.topK();
        this.wqB = wqB;
        this.wk = wk;
        this.kNorm = kNorm;
        this.weightsProj = weightsProj;
        this.rope = new Rope(new RopeConfig(modelRope.theta(), config.ropeLayout(), config.ropeDim(), modelRope.yarn()));
        this.headWeightScale = (float) (1.0 / Math.sqrt(nHeads) / Math.sqrt(headDim));
    }

    /** Loads {@code model.layers.<layer>.self_attn.indexer.*}: {@code wq_b}, {@code wk}, {@code k_norm}, {@code weights_proj}. */
    static LightningIndexer load(TensorStore store, ModelConfig config, int layer) {
        IndexerConfig indexer = config.indexer();
        int qLoraRank = config.mla().qLoraRank();
        if (qLoraRank <= 0) {
            throw new IllegalArgumentException("layer " + layer + " has a lightning indexer but q_lora_rank is "
                    + qLoraRank + "; the indexer's queries need MLA's query latent");
        }
        String prefix = "model.layers." + layer + ".self_attn.indexer.";
        int hidden = config.hiddenSize();
        int headDim = indexer.headDim();
        LayerNorm kNorm = new LayerNorm(store.vector(prefix + "k_norm.weight", headDim),
                store.vector(prefix + "k_norm.bias", headDim), KEY_NORM_EPS);
        return new LightningIndexer(layer, indexer, config.rope(),
                store.matrix(prefix + "wq_b.weight", indexer.nHeads() * headDim, qLoraRank),
                store.matrix(prefix + "wk.weight", headDim, hidden),
                kNorm,
                store.matrix(prefix + "weights_proj.weight", indexer.nHeads(), hidden));
    }

    /** Floats of one cached index key. */
    int keyDim() {
        return headDim;
    }

    long byteSize() {
        return wqB.byteSize() + wk.byteSize() + weightsProj.byteSize() + 8L * headDim;
    }

    /** Computes the index key of every row and stores it in the row's cache; call before {@link #select}. */
    void storeKeys(AttentionBatch batch, float[] input, Workspace workspace) {
        int rows = batch.size();
        float[] keys = workspace.floats(Buffer.KEYS, rows * headDim);

        // k = RoPE(k_norm(wk · x)) on the first rope dims
        wk.matmul(input, keys, rows);
        kNorm.forwardInPlace(keys, 0, rows);
        for (int row = 0; row < rows; row++) {
            rope.rotate(keys, row * headDim, batch.position(row));
            cacheOf(batch, row).indexerKeys().store(batch.position(row), keys, row * headDim);
        }
    }

    /**
     * Scores every earlier position for every row and records the top-k in {@code batch} as this
     * layer's selection.
     *
     * @param input       normalised hidden rows, {@code rows × hidden}
     * @param queryLatent MLA's query latent after {@code q_a_layernorm}, {@code rows × q_lora_rank}
     */
    void select(AttentionBatch batch, float[] input, float[] queryLatent, Workspace workspace) {
        int rows = batch.size();
        int queryWidth = nHeads * headDim;
        float[] queries = workspace.floats(Buffer.QUERIES, rows * queryWidth);
        float[] headWeights = workspace.floats(Buffer.HEAD_WEIGHTS, rows * nHeads);
        int maxTokens = maxPosition(batch) + 1;
        float[] scores = workspace.floats(Buffer.SCORES, maxTokens);
        int[] selected = workspace.ints(Buffer.SELECTED, Math.min(topK, maxTokens));

        // per-head queries from the query latent, rotated like the keys
        wqB.matmul(queryLatent, queries, rows);
        for (int row = 0; row < rows; row++) {
            for (int j = 0; j < nHeads; j++) {
                rope.rotate(queries, row * queryWidth + j * headDim, batch.position(row));
            }
        }

        // per-head weights w_{t,j}, with n_heads^-0.5 and the softmax scale head_dim^-0.5 folded in
        weightsProj.matmul(input, headWeights, rows);
        for (int i = 0; i < rows * nHeads; i++) {
            headWeights[i] *= headWeightScale;
        }

        // score positions 0..t of the row's own sequence and keep the top-k
        for (int row = 0; row < rows; row++) {
            int tokens = batch.position(row) + 1;
            float[] keys = cacheOf(batch, row).indexerKeys().data();
            score(queries, row * queryWidth, headWeights, row * nHeads, keys, tokens, scores);
            int count = PositionSelection.topK(scores, tokens, topK, selected);
            batch.setSelection(layer, row, selected, count);
            batch.sequence(row).countIndexerRun();
        }
    }

    /** Writes {@code I(t,s) = Σ_j w_j · ReLU(q_j · k_s)} for {@code s < count} into {@code scores}. */
    void score(float[] queries, int queryOffset, float[] headWeights, int weightOffset, float[] keys, int count,
               float[] scores) {
        for (int s = 0; s < count; s++) {
            int key = s * headDim;
            float sum = 0f;
            for (int j = 0; j < nHeads; j++) {
                int query = queryOffset + j * headDim;
                float dot = 0f;
                for (int i = 0; i < headDim; i++) {
                    dot += queries[query + i] * keys[key + i];
                }
                sum += headWeights[weightOffset + j] * Math.max(dot, 0f);
            }
            scores[s] = sum;
        }
    }

    private MlaCache cacheOf(AttentionBatch batch, int row) {
        return (MlaCache) batch.cache(row, layer);
    }

    private static int maxPosition(AttentionBatch batch) {
        int max = 0;
        for (int row = 0; row < batch.size(); row++) {
            max = Math.max(max, batch.position(row));
        }
        return max;
    }
}
