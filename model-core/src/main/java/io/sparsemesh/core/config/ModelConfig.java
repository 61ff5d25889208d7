package io.sparsemesh.core.config;

import java.util.List;

/**
 * Everything the engine needs to know about a model's shape, whatever checkpoint format it came
 * from. Optional parts are null: {@code mla} for GQA models, {@code indexer} for dense attention,
 * {@code moe} for dense channel mixing.
 *
 * @param headDim          per-head size of GQA attention (unused by MLA, which has its own dims)
 * @param intermediateSize hidden size of dense SwiGLU MLPs
 * @param eosTokenIds      every id that ends a sequence
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        float rmsNormEps,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        RopeConfig rope,
        MlaConfig mla,
        IndexerConfig indexer,
        MoeConfig moe) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public boolean isMoeLayer(int layer) {
        return moe != null && moe.isMoeLayer(layer);
    }

    public boolean hasIndexer() {
        return indexer != null;
    }
}
