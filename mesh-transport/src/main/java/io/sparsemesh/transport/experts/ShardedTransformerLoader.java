package io.sparsemesh.transport.experts;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;

/** Builds the router's {@link Transformer} with attention in this process and experts in an {@link ExpertBackend}. */
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
        return TransformerLoader.loadRouter(config, store, new LocalAttention(layers, 0, contextCapacity), experts,
                densePlacement);
    }
}
