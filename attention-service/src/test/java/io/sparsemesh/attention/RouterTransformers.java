package io.sparsemesh.attention;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.engine.ChannelMixer;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.core.tensor.Matrix;

/**
 * Builds a {@link Transformer} the way {@link TransformerLoader#loadLocal} does, except that its
 * attention runs in a given backend: the router's half of the model (embeddings, norms, channel
 * mixers with every expert local, LM head), and no attention weights.
 */
final class RouterTransformers {

    private RouterTransformers() {
    }

    static Transformer load(ModelConfig config, TensorStore store, AttentionBackend attention) {
        int layers = config.numLayers();
        int hidden = config.hiddenSize();
        float eps = config.rmsNormEps();

        RmsNorm[] inputNorms = new RmsNorm[layers];
        RmsNorm[] postAttentionNorms = new RmsNorm[layers];
        ChannelMixer[] channelMixers = new ChannelMixer[layers];
        ExpertBackend experts = config.moe() == null ? null : ExpertShard.load(store, config, new ShardLayout(1), 0,
                ExpertShard.DensePlacement.ROUTER);
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer;
            inputNorms[layer] = new RmsNorm(store.vector(prefix + ".input_layernorm.weight", hidden), eps);
            postAttentionNorms[layer] = new RmsNorm(store.vector(prefix + ".post_attention_layernorm.weight", hidden), eps);
            channelMixers[layer] = TransformerLoader.loadChannelMixer(store, config, layer, experts);
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
