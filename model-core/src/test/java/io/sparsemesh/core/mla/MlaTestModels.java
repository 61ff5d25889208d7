package io.sparsemesh.core.mla;

import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.config.IndexerConfig;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.MlaConfig;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.RopeLayout;

import java.util.List;

/** Tiny MLA model configs for tests on random weights. */
final class MlaTestModels {

    static final int HIDDEN = 32;
    static final int HEADS = 3;
    static final int LAYERS = 3;

    private MlaTestModels() {
    }

    /** Dense MLA: q_lora_rank {@code qLoraRank} (0 for a direct query projection), kv_lora_rank 12, nope 8, rope 4, v 6. */
    static ModelConfig dense(int qLoraRank, RopeLayout layout) {
        return config(Architecture.DEEPSEEK_V3, qLoraRank, layout, null);
    }

    /** Sparse MLA with a 2-head indexer of head dim 8 (4 rotated, half-split) keeping {@code topK} positions. */
    static ModelConfig sparse(int topK, List<IndexerType> layerTypes) {
        IndexerConfig indexer = new IndexerConfig(2, 8, 4, topK, RopeLayout.NEOX, layerTypes);
        return config(Architecture.GLM_MOE_DSA, 16, RopeLayout.NEOX, indexer);
    }

    private static ModelConfig config(Architecture architecture, int qLoraRank, RopeLayout layout, IndexerConfig indexer) {
        return new ModelConfig(architecture, 64, HIDDEN, LAYERS, HEADS, HEADS, 4, 48, 1e-6f, 4096, false, 0,
                List.of(1), new RopeConfig(10000, layout, 4, null), new MlaConfig(qLoraRank, 12, 8, 4, 6), indexer,
                null);
    }
}
