package io.sparsemesh.core.reference;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.mla.MlaPathPolicy;
import io.sparsemesh.core.mla.MultiHeadLatentAttention;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.MixtureOfExperts;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;

/**
 * A plain forward pass for one sequence, for checking the MLA and MoE layers against reference
 * outputs: embeddings, then per layer {@code x += MLA(RmsNorm(x))} and
 * {@code x += MLP-or-MoE(RmsNorm(x))}, then the final norm and the LM head. Each call runs one
 * step of consecutive tokens with the layers' own caches, so a prompt can go in as one chunk and
 * the continuation one token at a time. It also records, for the last row of the last step, each
 * layer's output, selected positions and routed experts.
 */
final class SequentialReference {

    /** What one layer did for the last row of the last step. */
    record LayerDebug(float[] output, int[] selectedPositions, int[] experts, float[] expertWeights) {
    }

    private final ModelConfig config;
    private final Matrix embedTokens;
    private final Matrix lmHead;
    private final RmsNorm finalNorm;
    private final RmsNorm[] inputNorms;
    private final RmsNorm[] postAttentionNorms;
    private final MultiHeadLatentAttention[] attention;
    private final SwiGluMlp[] denseMlps;          // null for MoE layers
    private final MixtureOfExperts[] moeLayers;   // null for dense layers
    private final Workspace workspace = new Workspace();
    private final LayerDebug[] debug;
    private SequenceCaches caches;

    SequentialReference(TensorStore store, ModelConfig config, MlaPathPolicy policy, int capacity) {
        this.config = config;
        int layers = config.numLayers();
        int hidden = config.hiddenSize();
        this.embedTokens = store.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        this.lmHead = store.matrix("lm_head.weight", config.vocabSize(), hidden);
        this.finalNorm = new RmsNorm(store.vector("model.norm.weight", hidden), config.rmsNormEps());
        this.inputNorms = new RmsNorm[layers];
        this.postAttentionNorms = new RmsNorm[layers];
        this.attention = new MultiHeadLatentAttention[layers];
        this.denseMlps = new SwiGluMlp[layers];
        this.moeLayers = new MixtureOfExperts[layers];
        this.debug = new LayerDebug[layers];
        LayerCache[] layerCaches = new LayerCache[layers];
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer + ".";
            inputNorms[layer] = new RmsNorm(store.vector(prefix + "input_layernorm.weight", hidden), config.rmsNormEps());
            postAttentionNorms[layer] = new RmsNorm(store.vector(prefix + "post_attention_layernorm.weight", hidden),
                    config.rmsNormEps());
            attention[layer] = MultiHeadLatentAttention.load(store, config, layer, policy);
            layerCaches[layer] = attention[layer].newCache(capacity);
            if (config.isMoeLayer(layer)) {
                moeLayers[layer] = MixtureOfExperts.load(store, config, layer);
            } else {
                denseMlps[layer] = new SwiGluMlp(
                        store.matrix(prefix + "mlp.gate_proj.weight", config.intermediateSize(), hidden),
                        store.matrix(prefix + "mlp.up_proj.weight", config.intermediateSize(), hidden),
                        store.matrix(prefix + "mlp.down_proj.weight", hidden, config.intermediateSize()));
            }
        }
        this.caches = new SequenceCaches(1, 0, layerCaches);
    }

    /** Runs {@code tokens} at positions {@code firstPosition..} and returns the logits of the last one. */
    float[] step(int[] tokens, int firstPosition) {
        int rows = tokens.length;
        int hidden = config.hiddenSize();
        float[] x = new float[rows * hidden];
        float[] normed = new float[rows * hidden];
        float[] mixed = new float[rows * hidden];
        int[] positions = new int[rows];
        SequenceCaches[] rowCaches = new SequenceCaches[rows];
        for (int row = 0; row < rows; row++) {
            embedTokens.copyRow(tokens[row], x, row * hidden);
            positions[row] = firstPosition + row;
            rowCaches[row] = caches;
        }
        AttentionBatch batch = new AttentionBatch(positions, rowCaches, workspace);

        for (int layer = 0; layer < config.numLayers(); layer++) {

            // x += attention(norm(x))
            inputNorms[layer].forward(x, normed, rows);
            attention[layer].forward(batch, normed, mixed);
            add(x, mixed);

            // x += mlp(norm(x)), a dense MLP or gate + routed experts + shared experts
            postAttentionNorms[layer].forward(x, normed, rows);
            ExpertRouting lastRouting = null;
            if (moeLayers[layer] != null) {
                moeLayers[layer].forward(normed, mixed, rows, workspace);
                lastRouting = routeLastRow(layer, normed, rows);
            } else {
                denseMlps[layer].forward(normed, 0, mixed, 0, rows, workspace);
            }
            add(x, mixed);

            debug[layer] = layerDebug(batch, layer, x, rows, lastRouting);
        }

        // final norm and LM head for the last row
        float[] last = new float[hidden];
        finalNorm.forward(x, (rows - 1) * hidden, last, 0, 1);
        float[] logits = new float[config.vocabSize()];
        lmHead.matmul(last, logits, 1);
        return logits;
    }

    LayerDebug debug(int layer) {
        return debug[layer];
    }

    private ExpertRouting routeLastRow(int layer, float[] normed, int rows) {
        int hidden = config.hiddenSize();
        ExpertRouting routing = ExpertRouting.allocate(1, config.moe().numExpertsPerToken());
        moeLayers[layer].gate().route(Arrays.copyOfRange(normed, (rows - 1) * hidden, rows * hidden), routing, workspace);
        return routing;
    }

    private LayerDebug layerDebug(AttentionBatch batch, int layer, float[] x, int rows, ExpertRouting routing) {
        int hidden = config.hiddenSize();
        int last = rows - 1;
        float[] output = Arrays.copyOfRange(x, last * hidden, rows * hidden);
        int[] selected = config.hasIndexer() ? Arrays.copyOf(batch.selection(last), batch.selectionCount(last)) : null;
        int[] experts = routing == null ? null : Arrays.copyOf(routing.expertIds(), routing.expertsPerToken());
        float[] weights = routing == null ? null : Arrays.copyOf(routing.weights(), routing.expertsPerToken());
        return new LayerDebug(output, selected, experts, weights);
    }

    private static void add(float[] x, float[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }
}
