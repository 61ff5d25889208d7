package io.sparsemesh.core.tiny;

import io.sparsemesh.core.config.Architecture;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tiny random-weight checkpoints of every architecture the engine runs, written with the tensor
 * names and config fields of the real releases:
 * <ul>
 *   <li>{@link #llama}: {@code LlamaForCausalLM} with GQA and tied embeddings, config as
 *       transformers 5 writes it ({@code rope_parameters}).</li>
 *   <li>{@link #deepseekV3}: {@code DeepseekV3ForCausalLM}, F32 in three shards with
 *       {@code model.safetensors.index.json}, config as transformers 5 writes it (YaRN in
 *       {@code rope_parameters}).</li>
 *   <li>{@link #deepseekV32}: {@code DeepseekV32ForCausalLM} with a lightning indexer on every layer,
 *       FP8 with 128 × 128 block scales and the config form of DeepSeek's own release
 *       ({@code rope_theta} with {@code rope_scaling}, {@code first_k_dense_replace} with
 *       {@code moe_layer_freq}, {@code quantization_config}).</li>
 *   <li>{@link #glmMoeDsa}: {@code GlmMoeDsaForCausalLM} whose layers 1, 2 and 4 reuse the top-k of
 *       layers 0 and 3 ({@code indexer_types}), with indexer weights on every layer so that the
 *       same files also load with every layer FULL.</li>
 * </ul>
 * Weights are N(0, 0.1²) for projections and N(0, 0.5²) for embeddings; norms are near 1. Each
 * sparse model has {@code index_topk} 8, below the length of the tests' sequences, so the top-k
 * selection decides which positions attention reads.
 */
final class TinyModels {

    static final int VOCAB = 256;
    static final int INDEX_TOPK = 8;
    static final int BOS = 0;
    static final int EOS = 1;

    private static final double PROJECTION_STD = 0.1;
    private static final double EMBEDDING_STD = 0.5;
    private static final double TIED_EMBEDDING_STD = 0.05;
    private static final String TRANSFORMERS_VERSION = "5.16.0.dev0";

    /**
     * Sizes of one MLA model.
     *
     * @param denseLayers leading layers with a dense MLP; the rest are MoE
     * @param indexHeads  lightning indexer heads, or 0 for dense attention
     */
    record MlaDims(int hidden, int layers, int heads, int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim,
                   int vDim, int intermediate, int experts, int expertsPerToken, int groups, int topkGroups,
                   int moeIntermediate, int denseLayers, int indexHeads, int indexHeadDim) {
    }

    static final MlaDims DEEPSEEK_V3 = new MlaDims(64, 3, 4, 32, 32, 16, 8, 16, 128, 8, 2, 4, 2, 32, 1, 0, 0);

    /** Hidden 160, intermediate 288 and q_lora_rank 48 leave partial 128 × 128 FP8 blocks at the edges. */
    static final MlaDims DEEPSEEK_V32 = new MlaDims(160, 3, 4, 48, 32, 16, 8, 16, 288, 8, 2, 2, 1, 48, 1, 4, 32);

    static final MlaDims GLM_MOE_DSA = new MlaDims(96, 5, 4, 32, 32, 16, 8, 16, 192, 8, 2, 2, 1, 48, 1, 4, 16);

    static final List<String> GLM_INDEXER_TYPES = List.of("full", "shared", "shared", "full", "shared");

    private TinyModels() {
    }

    /** Writes the tiny checkpoint of {@code architecture} into a folder under {@code dir}, Llama in BF16. */
    static TinyCheckpoint write(Architecture architecture, Path dir) throws IOException {
        return switch (architecture) {
            case LLAMA -> llama(dir.resolve("llama"), Storage.BF16);
            case DEEPSEEK_V3 -> deepseekV3(dir.resolve("deepseek_v3"));
            case DEEPSEEK_V32 -> deepseekV32(dir.resolve("deepseek_v32"));
            case GLM_MOE_DSA -> glmMoeDsa(dir.resolve("glm_moe_dsa"));
        };
    }

    /** Writes a 2-layer Llama: hidden 64, 4 heads over 2 KV heads of 16, intermediate 128, tied LM head. */
    static TinyCheckpoint llama(Path folder, Storage storage) throws IOException {
        int hidden = 64;
        int layers = 2;
        int heads = 4;
        int kvHeads = 2;
        int headDim = 16;
        int intermediate = 128;

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("attention_bias", false);
        config.put("attention_dropout", 0.0);
        config.put("bos_token_id", BOS);
        config.put("dtype", storage == Storage.BF16 ? "bfloat16" : "float32");
        config.put("eos_token_id", EOS);
        config.put("head_dim", headDim);
        config.put("hidden_act", "silu");
        config.put("hidden_size", hidden);
        config.put("initializer_range", 0.02);
        config.put("intermediate_size", intermediate);
        config.put("max_position_embeddings", 256);
        config.put("mlp_bias", false);
        config.put("model_type", "llama");
        config.put("num_attention_heads", heads);
        config.put("num_hidden_layers", layers);
        config.put("num_key_value_heads", kvHeads);
        config.put("pad_token_id", null);
        config.put("pretraining_tp", 1);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_parameters", Map.of("rope_theta", 10000.0, "rope_type", "default"));
        config.put("tie_word_embeddings", true);
        config.put("transformers_version", TRANSFORMERS_VERSION);
        config.put("use_cache", true);
        config.put("vocab_size", VOCAB);

        // a small embedding, because with a tied head a large one makes each token predict itself
        TinyTensors tensors = new TinyTensors(20_251_101L);
        tensors.gaussian("model.embed_tokens.weight", TIED_EMBEDDING_STD, VOCAB, hidden);
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer + ".";
            tensors.norm(prefix + "input_layernorm.weight", hidden);
            tensors.gaussian(prefix + "self_attn.q_proj.weight", PROJECTION_STD, heads * headDim, hidden);
            tensors.gaussian(prefix + "self_attn.k_proj.weight", PROJECTION_STD, kvHeads * headDim, hidden);
            tensors.gaussian(prefix + "self_attn.v_proj.weight", PROJECTION_STD, kvHeads * headDim, hidden);
            tensors.gaussian(prefix + "self_attn.o_proj.weight", PROJECTION_STD, hidden, heads * headDim);
            tensors.norm(prefix + "post_attention_layernorm.weight", hidden);
            mlp(tensors, prefix + "mlp.", hidden, intermediate);
        }
        tensors.norm("model.norm.weight", hidden);
        return TinyCheckpoint.write(folder, config, tensors, storage, 1);
    }

    static TinyCheckpoint deepseekV3(Path folder) throws IOException {
        MlaDims dims = DEEPSEEK_V3;
        Map<String, Object> config = mlaConfig("DeepseekV3ForCausalLM", "deepseek_v3", dims);
        config.put("dtype", "float32");
        config.put("first_k_dense_replace", dims.denseLayers());
        config.put("head_dim", dims.ropeDim());
        config.put("max_position_embeddings", 163840);
        config.put("num_nextn_predict_layers", 0);
        config.put("pretraining_tp", 1);
        config.put("rms_norm_eps", 1e-6);
        config.put("rope_interleave", true);
        config.put("rope_parameters", yarn(true));
        return TinyCheckpoint.write(folder, sorted(config), mlaTensors(dims, 20_251_102L), Storage.F32, 3);
    }

    static TinyCheckpoint deepseekV32(Path folder) throws IOException {
        MlaDims dims = DEEPSEEK_V32;
        Map<String, Object> config = mlaConfig("DeepseekV32ForCausalLM", "deepseek_v32", dims);
        config.put("ep_size", 1);
        config.put("first_k_dense_replace", dims.denseLayers());
        config.put("index_head_dim", dims.indexHeadDim());
        config.put("index_n_heads", dims.indexHeads());
        config.put("index_topk", INDEX_TOPK);
        config.put("max_position_embeddings", 163840);
        config.put("moe_layer_freq", 1);
        config.put("num_nextn_predict_layers", 0);
        config.put("quantization_config", Map.of(
                "activation_scheme", "dynamic",
                "fmt", "e4m3",
                "quant_method", "fp8",
                "weight_block_size", List.of(Storage.FP8_BLOCK, Storage.FP8_BLOCK)));
        config.put("rms_norm_eps", 1e-6);
        config.put("rope_scaling", yarn(false));
        config.put("rope_theta", 10000);
        config.put("scoring_func", "sigmoid");
        config.put("topk_method", "noaux_tc");
        config.put("torch_dtype", "bfloat16");
        config.put("transformers_version", "4.44.2");
        return TinyCheckpoint.write(folder, sorted(config), mlaTensors(dims, 20_251_103L), Storage.FP8_BLOCKS, 1);
    }

    static TinyCheckpoint glmMoeDsa(Path folder) throws IOException {
        MlaDims dims = GLM_MOE_DSA;
        Map<String, Object> config = mlaConfig("GlmMoeDsaForCausalLM", "glm_moe_dsa", dims);
        config.put("dtype", "float32");
        config.put("first_k_dense_replace", dims.denseLayers());
        config.put("head_dim", dims.ropeDim());
        config.put("index_head_dim", dims.indexHeadDim());
        config.put("index_n_heads", dims.indexHeads());
        config.put("index_topk", INDEX_TOPK);
        config.put("indexer_types", GLM_INDEXER_TYPES);
        config.put("layer_types", Collections.nCopies(dims.layers(), "deepseek_sparse_attention"));
        config.put("max_position_embeddings", 256);
        config.put("mlp_bias", false);
        config.put("mlp_layer_types", mlpLayerTypes(dims));
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_parameters", Map.of("rope_theta", 1_000_000.0, "rope_type", "default"));
        return TinyCheckpoint.write(folder, sorted(config), mlaTensors(dims, 20_251_104L), Storage.F32, 1);
    }

    /** Returns the config fields that every MLA family shares. */
    private static Map<String, Object> mlaConfig(String architecture, String modelType, MlaDims dims) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of(architecture));
        config.put("attention_bias", false);
        config.put("attention_dropout", 0.0);
        config.put("bos_token_id", BOS);
        config.put("eos_token_id", EOS);
        config.put("hidden_act", "silu");
        config.put("hidden_size", dims.hidden());
        config.put("initializer_range", 0.02);
        config.put("intermediate_size", dims.intermediate());
        config.put("kv_lora_rank", dims.kvLoraRank());
        config.put("model_type", modelType);
        config.put("moe_intermediate_size", dims.moeIntermediate());
        config.put("n_group", dims.groups());
        config.put("n_routed_experts", dims.experts());
        config.put("n_shared_experts", 1);
        config.put("norm_topk_prob", true);
        config.put("num_attention_heads", dims.heads());
        config.put("num_experts_per_tok", dims.expertsPerToken());
        config.put("num_hidden_layers", dims.layers());
        config.put("num_key_value_heads", dims.heads());
        config.put("pad_token_id", null);
        config.put("q_lora_rank", dims.qLoraRank());
        config.put("qk_head_dim", dims.nopeDim() + dims.ropeDim());
        config.put("qk_nope_head_dim", dims.nopeDim());
        config.put("qk_rope_head_dim", dims.ropeDim());
        config.put("routed_scaling_factor", 2.5);
        config.put("tie_word_embeddings", false);
        config.put("topk_group", dims.topkGroups());
        config.put("transformers_version", TRANSFORMERS_VERSION);
        config.put("use_cache", true);
        config.put("v_head_dim", dims.vDim());
        config.put("vocab_size", VOCAB);
        return config;
    }

    /** DeepSeek-V3's YaRN settings; transformers 5 adds {@code rope_theta} and {@code rope_type} inside. */
    private static Map<String, Object> yarn(boolean transformers5) {
        Map<String, Object> yarn = new LinkedHashMap<>();
        yarn.put("beta_fast", 32);
        yarn.put("beta_slow", 1);
        yarn.put("factor", 40.0);
        yarn.put("mscale", 1.0);
        yarn.put("mscale_all_dim", 1.0);
        yarn.put("original_max_position_embeddings", 4096);
        if (transformers5) {
            yarn.put("rope_theta", 10000.0);
            yarn.put("rope_type", "yarn");
        }
        yarn.put("type", "yarn");
        return yarn;
    }

    static List<String> mlpLayerTypes(MlaDims dims) {
        List<String> types = new ArrayList<>();
        for (int layer = 0; layer < dims.layers(); layer++) {
            types.add(layer < dims.denseLayers() ? "dense" : "sparse");
        }
        return types;
    }

    /** Generates every tensor of an MLA model, with indexer weights on every layer when it has an indexer. */
    private static TinyTensors mlaTensors(MlaDims dims, long seed) {
        TinyTensors tensors = new TinyTensors(seed);
        int hidden = dims.hidden();
        tensors.gaussian("model.embed_tokens.weight", EMBEDDING_STD, VOCAB, hidden);
        for (int layer = 0; layer < dims.layers(); layer++) {
            String prefix = "model.layers." + layer + ".";
            tensors.norm(prefix + "input_layernorm.weight", hidden);
            mlaAttention(tensors, prefix + "self_attn.", dims);
            tensors.norm(prefix + "post_attention_layernorm.weight", hidden);
            if (layer < dims.denseLayers()) {
                mlp(tensors, prefix + "mlp.", hidden, dims.intermediate());
            } else {
                moe(tensors, prefix + "mlp.", dims);
            }
        }
        tensors.norm("model.norm.weight", hidden);
        tensors.gaussian("lm_head.weight", PROJECTION_STD, VOCAB, hidden);
        return tensors;
    }

    private static void mlaAttention(TinyTensors tensors, String prefix, MlaDims dims) {
        int hidden = dims.hidden();
        int qkHeadDim = dims.nopeDim() + dims.ropeDim();
        tensors.gaussian(prefix + "q_a_proj.weight", PROJECTION_STD, dims.qLoraRank(), hidden);
        tensors.norm(prefix + "q_a_layernorm.weight", dims.qLoraRank());
        tensors.gaussian(prefix + "q_b_proj.weight", PROJECTION_STD, (long) dims.heads() * qkHeadDim, dims.qLoraRank());
        tensors.gaussian(prefix + "kv_a_proj_with_mqa.weight", PROJECTION_STD, dims.kvLoraRank() + dims.ropeDim(), hidden);
        tensors.norm(prefix + "kv_a_layernorm.weight", dims.kvLoraRank());
        tensors.gaussian(prefix + "kv_b_proj.weight", PROJECTION_STD,
                (long) dims.heads() * (dims.nopeDim() + dims.vDim()), dims.kvLoraRank());
        tensors.gaussian(prefix + "o_proj.weight", PROJECTION_STD, hidden, (long) dims.heads() * dims.vDim());
        if (dims.indexHeads() > 0) {
            String indexer = prefix + "indexer.";
            tensors.gaussian(indexer + "wq_b.weight", PROJECTION_STD, (long) dims.indexHeads() * dims.indexHeadDim(),
                    dims.qLoraRank());
            tensors.gaussian(indexer + "wk.weight", PROJECTION_STD, dims.indexHeadDim(), hidden);
            tensors.norm(indexer + "k_norm.weight", dims.indexHeadDim());
            tensors.gaussian(indexer + "k_norm.bias", 0.1, dims.indexHeadDim());
            tensors.gaussian(indexer + "weights_proj.weight", PROJECTION_STD, dims.indexHeads(), hidden);
        }
    }

    /** Adds a MoE block in the per-expert layout of the released checkpoints ({@code experts.<e>.gate_proj}). */
    private static void moe(TinyTensors tensors, String prefix, MlaDims dims) {
        tensors.gaussian(prefix + "gate.weight", PROJECTION_STD, dims.experts(), dims.hidden());
        tensors.gaussian(prefix + "gate.e_score_correction_bias", 0.05, dims.experts());
        for (int expert = 0; expert < dims.experts(); expert++) {
            mlp(tensors, prefix + "experts." + expert + ".", dims.hidden(), dims.moeIntermediate());
        }
        mlp(tensors, prefix + "shared_experts.", dims.hidden(), dims.moeIntermediate());
    }

    private static void mlp(TinyTensors tensors, String prefix, int hidden, int intermediate) {
        tensors.gaussian(prefix + "gate_proj.weight", PROJECTION_STD, intermediate, hidden);
        tensors.gaussian(prefix + "up_proj.weight", PROJECTION_STD, intermediate, hidden);
        tensors.gaussian(prefix + "down_proj.weight", PROJECTION_STD, hidden, intermediate);
    }

    /** Returns {@code config} with its keys in alphabetical order, as {@code save_pretrained} writes them. */
    private static Map<String, Object> sorted(Map<String, Object> config) {
        Map<String, Object> sorted = new LinkedHashMap<>();
        config.keySet().stream().sorted().forEach(key -> sorted.put(key, config.get(key)));
        return sorted;
    }
}
