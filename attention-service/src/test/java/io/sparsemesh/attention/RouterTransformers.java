package io.sparsemesh.attention;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;

/** Builds the router's half of a model around a given attention backend, with every expert local. */
final class RouterTransformers {

    private RouterTransformers() {
    }

    static Transformer load(ModelConfig config, TensorStore store, AttentionBackend attention) {
        ExpertBackend experts = config.moe() == null ? null : ExpertShard.load(store, config, new ShardLayout(1), 0,
                ExpertShard.DensePlacement.ROUTER);
        return TransformerLoader.loadRouter(config, store, attention, experts, ExpertShard.DensePlacement.ROUTER);
    }
}
