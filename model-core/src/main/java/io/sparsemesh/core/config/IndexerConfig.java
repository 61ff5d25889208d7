package io.sparsemesh.core.config;

import java.util.List;

/**
 * Lightning indexer settings of DeepSeek-V3.2 and GLM-5 sparse attention.
 *
 * @param nHeads     indexer heads ({@code index_n_heads})
 * @param headDim    indexer head size ({@code index_head_dim}), of which the first {@code ropeDim} are rotated
 * @param ropeDim    rotated dimensions of each indexer query and key
 * @param topK       positions each token attends to ({@code index_topk})
 * @param ropeLayout pairing of the indexer's rotated dimensions, which differs between families
 * @param layerTypes per layer: FULL runs the indexer, SHARED reuses the nearest earlier FULL layer's top-k
 */
public record IndexerConfig(int nHeads, int headDim, int ropeDim, int topK, RopeLayout ropeLayout,
                            List<IndexerType> layerTypes) {

    public IndexerConfig {
        layerTypes = List.copyOf(layerTypes);
    }

    public IndexerType layerType(int layer) {
        return layerTypes.get(layer);
    }
}
