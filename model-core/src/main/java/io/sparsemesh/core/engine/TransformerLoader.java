package io.sparsemesh.core.engine;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.gqa.GroupedQueryAttention;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.tensor.Matrix;

/** Builds a whole {@link Transformer} in this process from a checkpoint's tensors. */
public final class TransformerLoader {

    private TransformerLoader() {
    }

    /**
     * Loads every layer of {@code config} from {@code store}, with attention caches of
     * {@code contextCapacity} tokens per sequence.
     */
    public static Transformer loadLocal(ModelConfig config, TensorStore store, int contextCapacity) {
        int layers = config.numLayers();
        int hidden = config.hiddenSize();
        float eps = config.rmsNormEps();

        AttentionLayer[] attentionLayers = new AttentionLayer[layers];
        RmsNorm[] inputNorms = new RmsNorm[layers];
        RmsNorm[] postAttentionNorms = new RmsNorm[layers];
        ChannelMixer[] channelMixers = new ChannelMixer[layers];
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer;
            inputNorms[layer] = new RmsNorm(store.vector(prefix + ".input_layernorm.weight", hidden), eps);
            postAttentionNorms[layer] = new RmsNorm(store.vector(prefix + ".post_attention_layernorm.weight", hidden), eps);
            attentionLayers[layer] = loadAttention(store, config, layer);
            channelMixers[layer] = loadChannelMixer(store, config, layer);
        }

        Matrix embedTokens = store.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        Matrix lmHead = config.tieWordEmbeddings() && !store.contains("lm_head.weight")
                ? embedTokens
                : store.matrix("lm_head.weight", config.vocabSize(), hidden);
        RmsNorm finalNorm = new RmsNorm(store.vector("model.norm.weight", hidden), eps);

        LocalAttention attention = new LocalAttention(attentionLayers, 0, contextCapacity);
        return new Transformer(config, embedTokens, inputNorms, postAttentionNorms, attention, channelMixers,
                finalNorm, lmHead);
    }

    static AttentionLayer loadAttention(TensorStore store, ModelConfig config, int layer) {
        if (config.architecture().usesMla()) {
            throw new UnsupportedOperationException("MLA layers are not wired into the engine yet");
        }
        return GroupedQueryAttention.load(store, config, layer);
    }

    static ChannelMixer loadChannelMixer(TensorStore store, ModelConfig config, int layer) {
        if (config.isMoeLayer(layer)) {
            throw new UnsupportedOperationException("MoE layers are not wired into the engine yet");
        }
        return DenseMlp.load(store, "model.layers." + layer + ".mlp", config.hiddenSize(), config.intermediateSize());
    }
}
