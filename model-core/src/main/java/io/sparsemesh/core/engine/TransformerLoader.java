package io.sparsemesh.core.engine;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.gqa.GroupedQueryAttention;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.mla.MlaPathPolicy;
import io.sparsemesh.core.mla.MultiHeadLatentAttention;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.MixtureOfExperts;
import io.sparsemesh.core.moe.MoeGate;
import io.sparsemesh.core.moe.RoutingObserver;
import io.sparsemesh.core.moe.ShardLayout;
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
        return loadLocal(config, store, contextCapacity, null);
    }

    /**
     * Loads like {@link #loadLocal(ModelConfig, TensorStore, int)}, with every MLA layer choosing its
     * attention path by {@code mlaPaths}, or by {@link MlaPathPolicy#forDimensions} when it is null.
     * GQA models ignore it.
     */
    public static Transformer loadLocal(ModelConfig config, TensorStore store, int contextCapacity,
                                        MlaPathPolicy mlaPaths) {
        AttentionLayer[] attentionLayers = new AttentionLayer[config.numLayers()];
        for (int layer = 0; layer < attentionLayers.length; layer++) {
            attentionLayers[layer] = mlaPaths != null && config.architecture().usesMla()
                    ? MultiHeadLatentAttention.load(store, config, layer, mlaPaths)
                    : loadAttention(store, config, layer);
        }
        LocalAttention attention = new LocalAttention(attentionLayers, 0, contextCapacity);
        ExpertBackend experts = config.moe() == null ? null : ExpertShard.load(store, config, new ShardLayout(1), 0,
                ExpertShard.DensePlacement.ROUTER);
        return loadRouter(config, store, attention, experts, ExpertShard.DensePlacement.ROUTER);
    }

    /**
     * Loads the parts of a model that the router runs — embeddings, norms, MoE gates and shared
     * experts, dense FFNs unless they are placed on shards, final norm and LM head — around
     * attention and expert backends that may live in other processes.
     *
     * @param experts        runs routed experts, and dense FFNs when {@code densePlacement} is SHARDS;
     *                       may be null for a dense model whose FFNs stay here
     * @param densePlacement where dense layers' FFNs run
     */
    public static Transformer loadRouter(ModelConfig config, TensorStore store, AttentionBackend attention,
                                         ExpertBackend experts, ExpertShard.DensePlacement densePlacement) {
        return loadRouter(config, store, attention, experts, densePlacement, RoutingObserver.NONE);
    }

    /** As {@link #loadRouter(ModelConfig, TensorStore, AttentionBackend, ExpertBackend, ExpertShard.DensePlacement)}, reporting every gate decision to {@code routingObserver}. */
    public static Transformer loadRouter(ModelConfig config, TensorStore store, AttentionBackend attention,
                                         ExpertBackend experts, ExpertShard.DensePlacement densePlacement,
                                         RoutingObserver routingObserver) {
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
            channelMixers[layer] = !config.isMoeLayer(layer) && densePlacement == ExpertShard.DensePlacement.SHARDS
                    ? new ShardedDenseMlp(layer, experts)
                    : loadChannelMixer(store, config, layer, experts, routingObserver);
        }

        Matrix embedTokens = store.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        Matrix lmHead = config.tieWordEmbeddings() && !store.contains("lm_head.weight")
                ? embedTokens
                : store.matrix("lm_head.weight", config.vocabSize(), hidden);
        RmsNorm finalNorm = new RmsNorm(store.vector("model.norm.weight", hidden), eps);

        return new Transformer(config, embedTokens, inputNorms, postAttentionNorms, attention, channelMixers,
                finalNorm, lmHead);
    }

    /** Loads layer {@code layer}'s sequence mixer: MLA (with its indexer when sparse) or GQA. */
    public static AttentionLayer loadAttention(TensorStore store, ModelConfig config, int layer) {
        return config.architecture().usesMla()
                ? MultiHeadLatentAttention.load(store, config, layer)
                : GroupedQueryAttention.load(store, config, layer);
    }

    /**
     * Loads layer {@code layer}'s channel mixer: for a MoE layer the gate and shared experts, with
     * routed experts running in {@code experts}; for a dense layer its FFN in this process.
     */
    public static ChannelMixer loadChannelMixer(TensorStore store, ModelConfig config, int layer, ExpertBackend experts,
                                                RoutingObserver routingObserver) {
        if (config.isMoeLayer(layer)) {
            return new ExpertMixer(layer, MoeGate.load(store, config, layer), experts,
                    MixtureOfExperts.loadSharedExperts(store, config, layer), routingObserver);
        }
        return DenseMlp.load(store, "model.layers." + layer + ".mlp", config.hiddenSize(), config.intermediateSize());
    }
}
