package io.sparsemesh.transport.experts;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.engine.ChannelMixer;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.tensor.Matrix;

/**
 * Builds the router's {@link Transformer}: embeddings, norms, MoE gates, shared experts and the
 * LM head in this process; attention in the given {@link AttentionBackend}; routed experts, and
 * dense FFNs when they are placed on the shards, in the given {@link ExpertBackend}. Only the
 * tensors of the parts that run here are mapped.
 */
public final class ShardedTransformerLoader {

    private ShardedTransformerLoader() {
    }

    /** Loads the router's part of the model with every attention layer in this process. */
    public static Transformer withLocalAttention(ModelConfig config, TensorStore store, int contextCapacity,
                                                 ExpertBackend experts, DensePlacement densePlacement) {
        AttentionLayer[] layers = new AttentionLayer[config.numLayers()];
        for (int layer = 0; layer < layers.length; layer++) {
            layers[layer] = TransformerLoader.loadAttention(store, config, layer);
        }
        return load(config, store, new LocalAttention(layers, 0, contextCapacity), experts, densePlacement);
    }

    /** Loads the router's part of the model around {@code attention} and {@code experts}. */
    public static Transformer load(ModelConfig config, TensorStore store, AttentionBackend attention,
                                   ExpertBackend experts, DensePlacement densePlacement) {
        int layers = config.numLayers();
        int hidden = config.hiddenSize();
        float eps = config.rmsNormEps();

        RmsNorm[] inputNorms = new RmsNorm[layers];
        RmsNorm[] postAttentionNorms = new RmsNorm[layers];
        ChannelMixer[] channelMixers = new ChannelMixer[layers];
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer;
            inputNorms[layer] = new RmsNorm(store.vector(prefix + ".input_layernorm.weight", hidden), eps);
            postAttentionNorms[layer] = new RmsNorm(store.vector(prefix + ".post_attention_layernorm.weight", hidden), eps);
            boolean denseOnShards = !config.isMoeLayer(layer) && densePlacement == DensePlacement.SHARDS;
            channelMixers[layer] = denseOnShards
                    ? new BackendDenseMlp(layer, experts)
                    : TransformerLoader.loadChannelMixer(store, config, layer, experts);
        }

        Matrix embedTokens = store.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        Matrix lmHead = config.tieWordEmbeddings() && !store.contains("lm_head.weight")
                ? embedTokens
                : store.matrix("lm_head.weight", config.vocabSize(), hidden);
        RmsNorm finalNorm = new RmsNorm(store.vector("model.norm.weight", hidden), eps);
        return new Transformer(config, embedTokens, inputNorms, postAttentionNorms, attention, channelMixers,
                finalNorm, lmHead);
    }
}
