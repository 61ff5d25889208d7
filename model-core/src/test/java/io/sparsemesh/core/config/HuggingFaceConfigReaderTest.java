package io.sparsemesh.core.config;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.sparsemesh.core.config.IndexerType.FULL;
import static io.sparsemesh.core.config.IndexerType.SHARED;
import static io.sparsemesh.core.config.MlpType.DENSE;
import static io.sparsemesh.core.config.MlpType.SPARSE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HuggingFaceConfigReaderTest {

        @TempDir
    Path dir;

    @Test
    void deepseekTinyConfig() {
        ModelConfig config = HuggingFaceConfigReader.read(TestData.hfTiny("deepseek_v3_tiny"));

        assertEquals(Architecture.DEEPSEEK_V3, config.architecture());
        assertEquals(256, config.vocabSize());
        assertEquals(64, config.hiddenSize());
        assertEquals(4, config.numLayers());
        assertEquals(4, config.numHeads());
        assertEquals(4, config.numKvHeads());
        assertEquals(128, config.intermediateSize());
        assertEquals(1e-6f, config.rmsNormEps());
        assertEquals(163840, config.maxPositionEmbeddings());
        assertFalse(config.tieWordEmbeddings());
        assertEquals(0, config.bosTokenId());
        assertEquals(List.of(1), config.eosTokenIds());
        assertEquals(new MlaConfig(32, 32, 16, 8, 16), config.mla());
        assertEquals(new RopeConfig(10_000.0, RopeLayout.INTERLEAVED, 8,
                new YarnScaling(40.0, 4096, 32.0, 1.0, 1.0, 1.0)), config.rope());
        assertEquals(new MoeConfig(8, 1, 2, 4, 2, 2.5, true, ScoringFunction.SIGMOID, 32,
                List.of(DENSE, SPARSE, SPARSE, SPARSE)), config.moe());
        assertNull(config.indexer());
    }

    @Test
    void glmTinyConfig() {
        ModelConfig config = HuggingFaceConfigReader.read(TestData.hfTiny("glm_moe_dsa_tiny_b"));

        assertEquals(Architecture.GLM_MOE_DSA, config.architecture());
        assertEquals(96, config.hiddenSize());
        assertEquals(192, config.intermediateSize());
        assertEquals(128, config.maxPositionEmbeddings());
        assertEquals(1e-5f, config.rmsNormEps());
        assertEquals(new MlaConfig(32, 32, 16, 8, 16), config.mla());
        assertEquals(new RopeConfig(1_000_000.0, RopeLayout.INTERLEAVED, 8, null), config.rope());
        assertEquals(new IndexerConfig(2, 16, 8, 8, RopeLayout.INTERLEAVED, List.of(FULL, FULL, FULL)), config.indexer());
        assertEquals(new MoeConfig(8, 1, 2, 2, 1, 2.5, true, ScoringFunction.SIGMOID, 48,
                List.of(DENSE, SPARSE, SPARSE)), config.moe());
    }

    @Test
    void olderDeepseekForm() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 6);
        json.put("rope_theta", 50_000.0);
        json.put("rope_scaling", Map.of("type", "yarn", "factor", 4.0, "original_max_position_embeddings", 1024,
                "beta_fast", 16, "beta_slow", 2, "mscale", 0.5, "mscale_all_dim", 0.7));
        json.put("first_k_dense_replace", 2);
        json.put("moe_layer_freq", 2);
        json.put("scoring_func", "softmax");
        json.put("eos_token_id", List.of(1, 7));

        ModelConfig config = read(json);

        assertEquals(new RopeConfig(50_000.0, RopeLayout.INTERLEAVED, 8,
                new YarnScaling(4.0, 1024, 16.0, 2.0, 0.5, 0.7)), config.rope());
        assertEquals(List.of(DENSE, DENSE, SPARSE, DENSE, SPARSE, DENSE), config.moe().mlpLayerTypes());
        assertEquals(ScoringFunction.SOFTMAX, config.moe().scoring());
        assertEquals(List.of(1, 7), config.eosTokenIds());
    }

    @Test
    void yarnWithoutMscaleIsZero() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 2);
        json.put("rope_parameters", Map.of("rope_type", "yarn", "rope_theta", 10000.0, "factor", 8.0,
                "original_max_position_embeddings", 512));

        YarnScaling yarn = read(json).rope().yarn();

        assertEquals(new YarnScaling(8.0, 512, 32.0, 1.0, 0.0, 0.0), yarn);
    }

    @Test
    void ropeInterleaveFalseMeansNeox() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 2);
        json.put("rope_interleave", false);

        assertEquals(RopeLayout.NEOX, read(json).rope().layout());
    }

    @Test
    void deepseekV32IndexerIsHalfSplit() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV32ForCausalLM", 3);
        json.put("index_n_heads", 4);
        json.put("index_head_dim", 32);
        json.put("index_topk", 16);

        ModelConfig config = read(json);

        assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());
        assertEquals(new IndexerConfig(4, 32, 8, 16, RopeLayout.NEOX, List.of(FULL, FULL, FULL)), config.indexer());
    }

    @Test
    void indexerRopeInterleaveIsHonoured() throws IOException {
        Map<String, Object> json = deepseek("GlmMoeDsaForCausalLM", 2);
        json.put("rope_interleave", true);
        json.put("indexer_rope_interleave", true);

        ModelConfig config = read(json);

        assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());
        assertEquals(RopeLayout.INTERLEAVED, config.indexer().ropeLayout());
    }

    @Test
    void indexTopkFreqSchedulesSharedLayers() throws IOException {
        Map<String, Object> json = deepseek("GlmMoeDsaForCausalLM", 11);
        json.put("index_topk_freq", 4);
        json.put("index_skip_topk_offset", 3);

        List<IndexerType> types = read(json).indexer().layerTypes();

        assertEquals(List.of(FULL, FULL, FULL, SHARED, SHARED, SHARED, FULL, SHARED, SHARED, SHARED, FULL), types);
    }

    @Test
    void indexTopkFreqDefaultOffset() throws IOException {
        Map<String, Object> json = deepseek("GlmMoeDsaForCausalLM", 6);
        json.put("index_topk_freq", 2);

        List<IndexerType> types = read(json).indexer().layerTypes();

        assertEquals(List.of(FULL, FULL, SHARED, FULL, SHARED, FULL), types);
    }

    @Test
    void indexTopkPatternIsRead() throws IOException {
        Map<String, Object> json = deepseek("GlmMoeDsaForCausalLM", 4);
        json.put("index_topk_pattern", "FSSF");

        assertEquals(List.of(FULL, SHARED, SHARED, FULL), read(json).indexer().layerTypes());
    }

    @Test
    void sharedFirstLayerIsRejected() throws IOException {
        Map<String, Object> json = deepseek("GlmMoeDsaForCausalLM", 2);
        json.put("indexer_types", List.of("shared", "full"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));

        assertTrue(e.getMessage().contains("layer 0"), e.getMessage());
    }

    @Test
    void wrongLayerCountIsRejected() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 3);
        json.put("mlp_layer_types", List.of("dense", "sparse"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));

        assertTrue(e.getMessage().contains("lists 2 layers but num_hidden_layers is 3"), e.getMessage());
    }

    @Test
    void llamaConfig() throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architectures", List.of("LlamaForCausalLM"));
        json.put("vocab_size", 512);
        json.put("hidden_size", 64);
        json.put("intermediate_size", 172);
        json.put("num_hidden_layers", 5);
        json.put("num_attention_heads", 8);
        json.put("num_key_value_heads", 4);
        json.put("rms_norm_eps", 1e-5);
        json.put("max_position_embeddings", 512);
        json.put("tie_word_embeddings", true);
        json.put("rope_theta", 500_000.0);
        json.put("bos_token_id", 1);
        json.put("eos_token_id", 2);
        SafetensorsWriter.writeConfig(dir, json);
        Files.writeString(dir.resolve(HuggingFaceConfigReader.GENERATION_CONFIG_FILE), "{\"eos_token_id\": [2, 9]}");

        ModelConfig config = HuggingFaceConfigReader.read(dir);

        assertEquals(Architecture.LLAMA, config.architecture());
        assertEquals(8, config.headDim());
        assertEquals(4, config.numKvHeads());
        assertTrue(config.tieWordEmbeddings());
        assertEquals(new RopeConfig(500_000.0, RopeLayout.NEOX, 8, null), config.rope());
        assertEquals(List.of(2, 9), config.eosTokenIds());
        assertNull(config.mla());
        assertNull(config.moe());
    }

    @Test
    void unsupportedRopeTypeIsRejected() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 2);
        json.put("rope_parameters", Map.of("rope_type", "llama3", "rope_theta", 10000.0));

        CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));

        assertTrue(e.getMessage().contains("llama3"), e.getMessage());
    }

    @Test
    void unsupportedArchitectureIsRejected() throws IOException {
        Map<String, Object> json = deepseek("MixtralForCausalLM", 2);

        CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));

        assertTrue(e.getMessage().contains("MixtralForCausalLM"), e.getMessage());
    }

    @Test
    void missingFieldIsNamed() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 2);
        json.remove("kv_lora_rank");

        CheckpointException e = assertThrows(CheckpointException.class, () -> read(json));

        assertTrue(e.getMessage().contains("kv_lora_rank"), e.getMessage());
    }

    @Test
    void fp8BlockSizeIsRead() throws IOException {
        Map<String, Object> json = deepseek("DeepseekV3ForCausalLM", 2);
        json.put("quantization_config", Map.of("quant_method", "fp8", "weight_block_size", List.of(64, 64)));
        SafetensorsWriter.writeConfig(dir, json);

        assertEquals(64, HuggingFaceConfigReader.fp8BlockSize(dir, 128));
    }

    private ModelConfig read(Map<String, Object> json) throws IOException {
        SafetensorsWriter.writeConfig(dir, json);
        return HuggingFaceConfigReader.read(dir);
    }

    private static Map<String, Object> deepseek(String architecture, int layers) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architectures", List.of(architecture));
        json.put("vocab_size", 256);
        json.put("hidden_size", 64);
        json.put("intermediate_size", 128);
        json.put("moe_intermediate_size", 32);
        json.put("num_hidden_layers", layers);
        json.put("num_attention_heads", 4);
        json.put("q_lora_rank", 32);
        json.put("kv_lora_rank", 32);
        json.put("qk_nope_head_dim", 16);
        json.put("qk_rope_head_dim", 8);
        json.put("v_head_dim", 16);
        json.put("n_routed_experts", 8);
        json.put("num_experts_per_tok", 2);
        json.put("first_k_dense_replace", 1);
        json.put("pad_token_id", null);
        return json;
    }
}
