package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.MlaConfig;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.layer.Rope;
import io.sparsemesh.core.layer.RopeFrequencies;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;

/**
 * Multi-head latent attention (DeepSeek-V2/V3, GLM-5), optionally sparse with a lightning indexer
 * (DeepSeek-V3.2, GLM-5).
 *
 * <p>Each head's query is {@code [q_nope | q_pe]}, with RoPE on {@code q_pe}. Keys and values are
 * never cached per head: each token stores the latent {@code c_kv = kv_a_layernorm(x·W_DKV)} and
 * one rotated RoPE key {@code k_pe} shared by all heads. Head {@code h}'s key is
 * {@code [W_UK_h · c_kv | k_pe]} and its value {@code W_UV_h · c_kv}, where {@code W_UK_h} and
 * {@code W_UV_h} are head {@code h}'s blocks of rows in {@code kv_b_proj}. Attention uses the
 * softmax scale {@code qk_head_dim^-0.5}, times YaRN's {@code mscale²} when the config sets {@code mscale_all_dim}.
 *
 * <p>Rows attend either on the expanded path (decompress K/V, then ordinary attention) or on
 * the absorbed path (attend over the latents with {@code W_UK_hᵀ·q_nope} as the query); both
 * compute the same function, and {@link MlaPathPolicy} picks one per sequence and step.
 */
public final class MultiHeadLatentAttention implements AttentionLayer {

    /** Epsilon of {@code q_a_layernorm} and {@code kv_a_layernorm}: the RMSNorm default, not {@code rms_norm_eps}. */
    private static final float LATENT_NORM_EPS = 1e-6f;

    private enum Buffer { QUERY_LATENT, QUERIES, COMPRESSED_KV, ATTENDED, GROUP_OF, GROUP_SIZE, POSITIONS, SCORES,
        EXPANDED_KV, LATENT_QUERY, LATENT_CONTEXT, KEY_ROW }

    private final int layer;
    private final int numHeads;
    private final int kvLoraRank;
    private final int nopeDim;
    private final int ropeDim;
    private final int vDim;
    private final QueryProjection queryProjection;
    private final Matrix kvAProjWithMqa; // [kvLoraRank + ropeDim, hidden]
    private final RmsNorm kvALayernorm;  // [kvLoraRank]
    private final Matrix kvBProj;        // [heads·(nope + v), kvLoraRank]: per head W_UK (nope rows) then W_UV (v rows)
    private final Matrix[] valueUp;      // per head W_UV_h, a view of kvBProj: [v, kvLoraRank]
    private final Matrix oProj;          // [hidden, heads·v]
    private final Rope rope;
    private final float softmaxScale;
    private final KeySelection keySelection;
    private final MlaPathPolicy pathPolicy;

    MultiHeadLatentAttention(int layer, int numHeads, MlaConfig mla, Rope rope, float softmaxScale,
                             QueryProjection queryProjection, Matrix kvAProjWithMqa, RmsNorm kvALayernorm,
                             Matrix kvBProj, Matrix oProj, KeySelection keySelection, MlaPathPolicy pathPolicy) {
        if (rope.rotaryDim() != mla.qkRopeHeadDim()) {
            throw new IllegalArgumentException("RoPE rotates " + rope.rotaryDim() + " dims but qk_rope_head_dim is "
                    + mla.qkRopeHeadDim());
        }
        this.layer = layer;
        this.numHeads = numHeads;
        this.kvLoraRank = mla.kvLoraRank();
        this.nopeDim = mla.qkNopeHeadDim();
        this.ropeDim = mla.qkRopeHeadDim();
        this.vDim = mla.vHeadDim();
        this.queryProjection = queryProjection;
        this.kvAProjWithMqa = kvAProjWithMqa;
        this.kvALayernorm = kvALayernorm;
        this.kvBProj = kvBProj;
        this.oProj = oProj;
        this.rope = rope;
        this.softmaxScale = softmaxScale;
        this.keySelection = keySelection;
        this.pathPolicy = pathPolicy;
        this.valueUp = new Matrix[numHeads];
        for (int h = 0; h < numHeads; h++) {
            int headStart = h * (nopeDim + vDim);
            valueUp[h] = kvBProj.rowRange(headStart + nopeDim, headStart + nopeDim + vDim);
        }
    }

    /** Loads layer {@code layer} with the cost-based path policy of {@link MlaPathPolicy#forDimensions}. */
    public static MultiHeadLatentAttention load(TensorStore store, ModelConfig config, int layer) {
        return load(store, config, layer, MlaPathPolicy.forDimensions(config.mla()));
    }

    /**
     * Loads {@code model.layers.<layer>.self_attn.*}: {@code q_a_proj}, {@code q_a_layernorm} and
     * {@code q_b_proj} (or {@code q_proj} when {@code q_lora_rank} is 0), {@code kv_a_proj_with_mqa},
     * {@code kv_a_layernorm}, {@code kv_b_proj}, {@code o_proj}, and the indexer of a FULL sparse layer.
     */
    public static MultiHeadLatentAttention load(TensorStore store, ModelConfig config, int layer,
                                                MlaPathPolicy pathPolicy) {
        MlaConfig mla = config.mla();
        if (mla == null) {
            throw new IllegalArgumentException("layer " + layer + ": the " + config.architecture()
                    + " config has no MLA settings (kv_lora_rank and friends)");
        }
        String prefix = "model.layers." + layer + ".self_attn.";
        int hidden = config.hiddenSize();
        int heads = config.numHeads();

        QueryProjection queries = mla.qLoraRank() > 0
                ? new QueryProjection.LowRank(
                        store.matrix(prefix + "q_a_proj.weight", mla.qLoraRank(), hidden),
                        new RmsNorm(store.vector(prefix + "q_a_layernorm.weight", mla.qLoraRank()), LATENT_NORM_EPS),
                        store.matrix(prefix + "q_b_proj.weight", heads * mla.qkHeadDim(), mla.qLoraRank()))
                : new QueryProjection.Direct(store.matrix(prefix + "q_proj.weight", heads * mla.qkHeadDim(), hidden));

        float softmaxScale = (float) (RopeFrequencies.softmaxScaleMultiplier(config.rope()) / Math.sqrt(mla.qkHeadDim()));
        return new MultiHeadLatentAttention(layer, heads, mla, new Rope(config.rope()), softmaxScale, queries,
                store.matrix(prefix + "kv_a_proj_with_mqa.weight", mla.kvLoraRank() + mla.qkRopeHeadDim(), hidden),
                new RmsNorm(store.vector(prefix + "kv_a_layernorm.weight", mla.kvLoraRank()), LATENT_NORM_EPS),
                store.matrix(prefix + "kv_b_proj.weight", heads * (mla.qkNopeHeadDim() + mla.vHeadDim()), mla.kvLoraRank()),
                store.matrix(prefix + "o_proj.weight", hidden, heads * mla.vHeadDim()),
                keySelection(store, config, layer), pathPolicy);
    }

    private static KeySelection keySelection(TensorStore store, ModelConfig config, int layer) {
        if (!config.hasIndexer()) {
            return new KeySelection.Dense();
        }
        return config.indexer().layerType(layer) == IndexerType.FULL
                ? new KeySelection.Indexed(LightningIndexer.load(store, config, layer))
                : new KeySelection.Shared(layer);
    }

    @Override
    public int layerIndex() {
        return layer;
    }

    @Override
    public LayerCache newCache(int capacity) {
        return new MlaCache(kvLoraRank, ropeDim, keySelection.indexerKeyDim(), capacity);
    }

    @Override
    public long weightBytes() {
        return queryProjection.byteSize() + kvAProjWithMqa.byteSize() + 4L * kvALayernorm.dim()
                + kvBProj.byteSize() + oProj.byteSize() + keySelection.byteSize();
    }

    @Override
    public void forward(AttentionBatch batch, float[] input, float[] output) {
        int rows = batch.size();
        Workspace workspace = batch.workspace();
        float[] queryLatent = workspace.floats(Buffer.QUERY_LATENT, rows * queryProjection.latentDim());
        float[] queries = workspace.floats(Buffer.QUERIES, rows * numHeads * qkHeadDim());
        float[] attended = workspace.floats(Buffer.ATTENDED, rows * numHeads * vDim);

        // queries [q_nope | q_pe] per head, RoPE on q_pe
        queryProjection.project(input, rows, queryLatent, queries);
        rotateQueries(batch, queries);

        // the latent c_kv and the shared RoPE key of every row go into its sequence's cache
        compressAndCacheKeys(batch, input, workspace);

        // sparse layers choose the positions each row attends to; dense ones take all earlier positions
        keySelection.prepare(batch, input, queryLatent, workspace);

        // attention, one sequence at a time: expanded for prompt chunks, absorbed for decode rows
        attendBySequence(batch, queries, attended, workspace);

        // output projection of the concatenated heads
        oProj.matmul(attended, output, rows);
    }

    private int qkHeadDim() {
        return nopeDim + ropeDim;
    }

    private void rotateQueries(AttentionBatch batch, float[] queries) {
        int queryWidth = numHeads * qkHeadDim();
        for (int row = 0; row < batch.size(); row++) {
            for (int h = 0; h < numHeads; h++) {
                rope.rotate(queries, row * queryWidth + h * qkHeadDim() + nopeDim, batch.position(row));
            }
        }
    }

    private void compressAndCacheKeys(AttentionBatch batch, float[] input, Workspace workspace) {
        int rows = batch.size();
        int width = kvLoraRank + ropeDim;
        float[] compressed = workspace.floats(Buffer.COMPRESSED_KV, rows * width);

        kvAProjWithMqa.matmul(input, compressed, rows);
        for (int row = 0; row < rows; row++) {
            int start = row * width;
            int position = batch.position(row);
            kvALayernorm.forward(compressed, start, compressed, start, 1);
            rope.rotate(compressed, start + kvLoraRank, position);

            MlaCache cache = cacheOf(batch, row);
            cache.latents().store(position, compressed, start);
            cache.ropeKeys().store(position, compressed, start + kvLoraRank);
        }
    }

    /** Groups the rows by sequence and lets {@link #pathPolicy} pick each group's path. */
    private void attendBySequence(AttentionBatch batch, float[] queries, float[] attended, Workspace workspace) {
        int rows = batch.size();
        int[] groupOf = workspace.ints(Buffer.GROUP_OF, rows);
        int[] groupSize = workspace.ints(Buffer.GROUP_SIZE, rows);
        int maxTokens = 0;
        for (int row = 0; row < rows; row++) {
            groupOf[row] = firstRowOfSequence(batch, groupOf, row);
            groupSize[row] = 0;
            groupSize[groupOf[row]]++;
            maxTokens = Math.max(maxTokens, batch.position(row) + 1);
        }
        int[] positions = workspace.ints(Buffer.POSITIONS, maxTokens);
        float[] scores = workspace.floats(Buffer.SCORES, maxTokens);

        for (int first = 0; first < rows; first++) {
            if (groupOf[first] != first) {
                continue;
            }
            if (pathPolicy.expands(groupSize[first])) {
                attendExpanded(batch, first, groupOf, queries, attended, positions, scores, workspace);
            } else {
                for (int row = first; row < rows; row++) {
                    if (groupOf[row] == first) {
                        attendAbsorbed(batch, row, queries, attended, positions, scores, workspace);
                    }
                }
            }
        }
    }

    /** Returns the first row of {@code row}'s sequence, looking at the previous row first since chunks are contiguous. */
    private static int firstRowOfSequence(AttentionBatch batch, int[] groupOf, int row) {
        for (int earlier = row - 1; earlier >= 0; earlier--) {
            if (batch.sequence(earlier) == batch.sequence(row)) {
                return groupOf[earlier];
            }
        }
        return row;
    }

    /** Decompresses K/V once for the sequence of row {@code first}, then attends every row of that sequence. */
    private void attendExpanded(AttentionBatch batch, int first, int[] groupOf, float[] queries, float[] attended,
                                int[] positions, float[] scores, Workspace workspace) {
        int tokens = 0;
        for (int row = first; row < batch.size(); row++) {
            if (groupOf[row] == first) {
                tokens = Math.max(tokens, batch.position(row) + 1);
            }
        }
        MlaCache cache = cacheOf(batch, first);
        float[] expanded = workspace.floats(Buffer.EXPANDED_KV, tokens * kvBProj.rows());

        // [k_nope | v] of every head for positions 0..max, one kv_b_proj batch
        kvBProj.matmul(cache.latents().data(), 0, expanded, 0, tokens);

        for (int row = first; row < batch.size(); row++) {
            if (groupOf[row] != first) {
                continue;
            }
            int count = keySelection.positions(batch, row, positions);
            for (int h = 0; h < numHeads; h++) {
                attendExpandedHead(cache, expanded, row, h, queries, attended, positions, count, scores);
            }
        }
    }

    private void attendExpandedHead(MlaCache cache, float[] expanded, int row, int h, float[] queries,
                                    float[] attended, int[] positions, int count, float[] scores) {
        int kvWidth = kvBProj.rows();
        int headOffset = h * (nopeDim + vDim);
        int query = (row * numHeads + h) * qkHeadDim();
        float[] ropeKeys = cache.ropeKeys().data();

        // scores against [k_nope | k_pe]
        for (int i = 0; i < count; i++) {
            int s = positions[i];
            float dot = dot(queries, query, expanded, s * kvWidth + headOffset, nopeDim)
                    + dot(queries, query + nopeDim, ropeKeys, s * ropeDim, ropeDim);
            scores[i] = dot * softmaxScale;
        }
        softmaxInPlace(scores, count);

        // weighted sum of the values
        int out = (row * numHeads + h) * vDim;
        Arrays.fill(attended, out, out + vDim, 0f);
        for (int i = 0; i < count; i++) {
            int value = positions[i] * kvWidth + headOffset + nopeDim;
            for (int d = 0; d < vDim; d++) {
                attended[out + d] += scores[i] * expanded[value + d];
            }
        }
    }

    /** Attends one row over the cached latents, with W_UK folded into the query and W_UV applied after. */
    private void attendAbsorbed(AttentionBatch batch, int row, float[] queries, float[] attended, int[] positions,
                                float[] scores, Workspace workspace) {
        MlaCache cache = cacheOf(batch, row);
        float[] latents = cache.latents().data();
        float[] ropeKeys = cache.ropeKeys().data();
        float[] latentQuery = workspace.floats(Buffer.LATENT_QUERY, kvLoraRank);
        float[] latentContext = workspace.floats(Buffer.LATENT_CONTEXT, kvLoraRank);
        int count = keySelection.positions(batch, row, positions);

        for (int h = 0; h < numHeads; h++) {
            int query = (row * numHeads + h) * qkHeadDim();

            // W_UK_hᵀ · q_nope: the query in latent space
            absorbKeyProjection(h, queries, query, latentQuery, workspace);

            // scores against [c_kv | k_pe]
            for (int i = 0; i < count; i++) {
                int s = positions[i];
                float dot = dot(latentQuery, 0, latents, s * kvLoraRank, kvLoraRank)
                        + dot(queries, query + nopeDim, ropeKeys, s * ropeDim, ropeDim);
                scores[i] = dot * softmaxScale;
            }
            softmaxInPlace(scores, count);

            // weighted sum of latents, then W_UV_h lifts it to the head's value
            Arrays.fill(latentContext, 0, kvLoraRank, 0f);
            for (int i = 0; i < count; i++) {
                axpy(scores[i], latents, positions[i] * kvLoraRank, latentContext, kvLoraRank);
            }
            valueUp[h].matmul(latentContext, 0, attended, (row * numHeads + h) * vDim, 1);
        }
    }

    /** Writes {@code W_UK_hᵀ · q_nope} into {@code latentQuery}, one dequantised row of {@code W_UK_h} at a time. */
    private void absorbKeyProjection(int h, float[] queries, int query, float[] latentQuery, Workspace workspace) {
        // NOTE: a transposed matmul kernel would avoid copying W_UK_h row by row for every decode row.
        float[] keyRow = workspace.floats(Buffer.KEY_ROW, kvLoraRank);
        Arrays.fill(latentQuery, 0, kvLoraRank, 0f);
        int headStart = h * (nopeDim + vDim);
        for (int i = 0; i < nopeDim; i++) {
            kvBProj.copyRow(headStart + i, keyRow, 0);
            axpy(queries[query + i], keyRow, 0, latentQuery, kvLoraRank);
        }
    }

    private MlaCache cacheOf(AttentionBatch batch, int row) {
        return (MlaCache) batch.cache(row, layer);
    }

    private static float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        float sum = 0f;
        for (int i = 0; i < length; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** {@code y[0..length) += alpha · x[xOffset..xOffset + length)}. */
    private static void axpy(float alpha, float[] x, int xOffset, float[] y, int length) {
        for (int i = 0; i < length; i++) {
            y[i] += alpha * x[xOffset + i];
        }
    }

    private static void softmaxInPlace(float[] x, int count) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, x[i]);
        }
        float sum = 0f;
        for (int i = 0; i < count; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < count; i++) {
            x[i] /= sum;
        }
    }
}
