package io.sparsemesh.core.testing;

import io.sparsemesh.core.config.IndexerConfig;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.MlaConfig;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.MoeConfig;

import java.util.Random;

/** Fills a {@link HeapTensorStore} with seeded random weights under Hugging Face names for a model config. */
public final class RandomWeights {

    private final Random random;
    private final HeapTensorStore store = new HeapTensorStore();

    public RandomWeights(long seed) {
        this.random = new Random(seed);
    }

    public HeapTensorStore store() {
        return store;
    }

    /** Adds the MLA (and, for FULL sparse layers, indexer) tensors of {@code layer}. */
    public RandomWeights attention(ModelConfig config, int layer) {
        MlaConfig mla = config.mla();
        String prefix = "model.layers." + layer + ".self_attn.";
        int hidden = config.hiddenSize();
        int heads = config.numHeads();
        if (mla.qLoraRank() > 0) {
            matrix(prefix + "q_a_proj.weight", mla.qLoraRank(), hidden);
            norm(prefix + "q_a_layernorm.weight", mla.qLoraRank());
            matrix(prefix + "q_b_proj.weight", heads * mla.qkHeadDim(), mla.qLoraRank());
        } else {
            matrix(prefix + "q_proj.weight", heads * mla.qkHeadDim(), hidden);
        }
        matrix(prefix + "kv_a_proj_with_mqa.weight", mla.kvLoraRank() + mla.qkRopeHeadDim(), hidden);
        norm(prefix + "kv_a_layernorm.weight", mla.kvLoraRank());
        matrix(prefix + "kv_b_proj.weight", heads * (mla.qkNopeHeadDim() + mla.vHeadDim()), mla.kvLoraRank());
        matrix(prefix + "o_proj.weight", hidden, heads * mla.vHeadDim());

        IndexerConfig indexer = config.indexer();
        if (indexer != null && indexer.layerType(layer) == IndexerType.FULL) {
            String indexerPrefix = prefix + "indexer.";
            matrix(indexerPrefix + "wq_b.weight", indexer.nHeads() * indexer.headDim(), mla.qLoraRank());
            matrix(indexerPrefix + "wk.weight", indexer.headDim(), hidden);
            norm(indexerPrefix + "k_norm.weight", indexer.headDim());
            vector(indexerPrefix + "k_norm.bias", indexer.headDim(), 0.1);
            matrix(indexerPrefix + "weights_proj.weight", indexer.nHeads(), hidden);
        }
        return this;
    }

    /** Adds the gate, bias, every routed expert and the shared experts of MoE layer {@code layer}. */
    public RandomWeights moe(ModelConfig config, int layer) {
        MoeConfig moe = config.moe();
        String prefix = "model.layers." + layer + ".mlp.";
        int hidden = config.hiddenSize();
        matrix(prefix + "gate.weight", moe.numRoutedExperts(), hidden);
        vector(prefix + "gate.e_score_correction_bias", moe.numRoutedExperts(), 0.1);
        for (int e = 0; e < moe.numRoutedExperts(); e++) {
            mlp(prefix + "experts." + e + ".", hidden, moe.moeIntermediateSize());
        }
        mlp(prefix + "shared_experts.", hidden, moe.moeIntermediateSize() * moe.numSharedExperts());
        return this;
    }

    public void mlp(String prefix, int hidden, int intermediate) {
        matrix(prefix + "gate_proj.weight", intermediate, hidden);
        matrix(prefix + "up_proj.weight", intermediate, hidden);
        matrix(prefix + "down_proj.weight", hidden, intermediate);
    }

    /** Adds a {@code rows × cols} matrix with entries ~ N(0, 1/cols), so projections keep unit scale. */
    public void matrix(String name, int rows, int cols) {
        float[] data = new float[rows * cols];
        double std = 1.0 / Math.sqrt(cols);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextGaussian() * std);
        }
        store.put(name, data, rows, cols);
    }

    /** Adds a norm weight near 1. */
    public void norm(String name, int length) {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) {
            data[i] = (float) (1 + 0.2 * random.nextGaussian());
        }
        store.put(name, data, length);
    }

    public void vector(String name, int length, double std) {
        float[] data = new float[length];
        for (int i = 0; i < length; i++) {
            data[i] = (float) (random.nextGaussian() * std);
        }
        store.put(name, data, length);
    }

    /** Returns {@code count} random values ~ N(0, 1). */
    public float[] gaussian(int count) {
        float[] data = new float[count];
        for (int i = 0; i < count; i++) {
            data[i] = (float) random.nextGaussian();
        }
        return data;
    }
}
