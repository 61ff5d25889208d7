package io.sparsemesh.core.config;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufFile;
import io.sparsemesh.core.checkpoint.GgufValueType;
import io.sparsemesh.core.checkpoint.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufConfigReaderTest {

    @TempDir
    Path dir;

    @Test
    void storiesConfig() {
        ModelConfig config = GgufConfigReader.read(GgufFile.read(TestData.storiesGguf()));

        assertEquals(Architecture.LLAMA, config.architecture());
        assertEquals(64, config.hiddenSize());
        assertEquals(172, config.intermediateSize());
        assertEquals(5, config.numLayers());
        assertEquals(8, config.numHeads());
        assertEquals(4, config.numKvHeads());
        assertEquals(8, config.headDim());
        assertEquals(512, config.vocabSize());
        assertEquals(128, config.maxPositionEmbeddings());
        assertEquals(1e-5f, config.rmsNormEps(), 1e-12f);
        assertEquals(1, config.bosTokenId());
        assertEquals(List.of(2), config.eosTokenIds());
        assertFalse(config.tieWordEmbeddings());
        assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());
        assertEquals(10_000.0, config.rope().theta());
        assertEquals(8, config.rope().rotaryDim());
        assertNull(config.rope().yarn());
        assertNull(config.mla());
        assertNull(config.moe());
        assertNull(config.indexer());
    }

    @Test
    void deepseek2Config() throws IOException {
        Path file = new GgufWriter()
                .putString("general.architecture", "deepseek2")
                .putUint32("deepseek2.block_count", 4)
                .putUint32("deepseek2.context_length", 163840)
                .putUint32("deepseek2.embedding_length", 64)
                .putUint32("deepseek2.feed_forward_length", 128)
                .putUint32("deepseek2.attention.head_count", 4)
                .putUint32("deepseek2.attention.head_count_kv", 1)
                .putFloat32("deepseek2.rope.freq_base", 10000f)
                .putFloat32("deepseek2.attention.layer_norm_rms_epsilon", 1e-6f)
                .putUint32("deepseek2.expert_used_count", 2)
                .putUint32("deepseek2.expert_group_count", 4)
                .putUint32("deepseek2.expert_group_used_count", 2)
                .putUint32("deepseek2.leading_dense_block_count", 1)
                .putUint32("deepseek2.vocab_size", 256)
                .putUint32("deepseek2.attention.q_lora_rank", 32)
                .putUint32("deepseek2.attention.kv_lora_rank", 16)
                .putUint32("deepseek2.attention.key_length", 24)
                .putUint32("deepseek2.attention.value_length", 16)
                .putUint32("deepseek2.attention.key_length_mla", 24)
                .putUint32("deepseek2.attention.value_length_mla", 12)
                .putUint32("deepseek2.expert_feed_forward_length", 32)
                .putUint32("deepseek2.expert_count", 8)
                .putUint32("deepseek2.expert_shared_count", 1)
                .putFloat32("deepseek2.expert_weights_scale", 2.5f)
                .put("deepseek2.expert_weights_norm", GgufValueType.BOOL, true)
                .putUint32("deepseek2.expert_gating_func", 2)
                .putUint32("deepseek2.rope.dimension_count", 8)
                .putString("deepseek2.rope.scaling.type", "yarn")
                .putFloat32("deepseek2.rope.scaling.factor", 40f)
                .putUint32("deepseek2.rope.scaling.original_context_length", 4096)
                .putFloat32("deepseek2.rope.scaling.yarn_log_multiplier", 0.1f)
                .putUint32("tokenizer.ggml.bos_token_id", 0)
                .putUint32("tokenizer.ggml.eos_token_id", 1)
                .write(dir.resolve("ds.gguf"));

        ModelConfig config = GgufConfigReader.read(GgufFile.read(file));

        assertEquals(Architecture.DEEPSEEK_V3, config.architecture());
        assertEquals(256, config.vocabSize());
        assertEquals(4, config.numKvHeads());
        assertTrue(config.tieWordEmbeddings());
        assertEquals(new MlaConfig(32, 16, 16, 8, 12), config.mla());
        assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());
        assertEquals(8, config.rope().rotaryDim());
        YarnScaling yarn = config.rope().yarn();
        assertEquals(40.0, yarn.factor(), 1e-6);
        assertEquals(4096, yarn.originalMaxPositionEmbeddings());
        assertEquals(32.0, yarn.betaFast());
        assertEquals(1.0, yarn.betaSlow());
        assertEquals(1.0, yarn.mscaleAllDim(), 1e-6);
        MoeConfig moe = config.moe();
        assertEquals(8, moe.numRoutedExperts());
        assertEquals(1, moe.numSharedExperts());
        assertEquals(2, moe.numExpertsPerToken());
        assertEquals(4, moe.nGroup());
        assertEquals(2, moe.topkGroup());
        assertEquals(2.5, moe.routedScalingFactor(), 1e-6);
        assertTrue(moe.normTopkProb());
        assertEquals(ScoringFunction.SIGMOID, moe.scoring());
        assertEquals(32, moe.moeIntermediateSize());
        assertEquals(List.of(MlpType.DENSE, MlpType.SPARSE, MlpType.SPARSE, MlpType.SPARSE), moe.mlpLayerTypes());
        assertEquals(0, config.bosTokenId());
        assertEquals(List.of(1), config.eosTokenIds());
    }

    @Test
    void linearRopeScalingIsRejected() throws IOException {
        Path file = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUint32("llama.embedding_length", 64)
                .putUint32("llama.attention.head_count", 8)
                .putUint32("llama.block_count", 1)
                .putUint32("llama.feed_forward_length", 128)
                .putUint32("llama.context_length", 256)
                .putUint32("llama.vocab_size", 32)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putString("llama.rope.scaling.type", "linear")
                .write(dir.resolve("linear.gguf"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufConfigReader.read(GgufFile.read(file)));

        assertTrue(e.getMessage().contains("'linear'"), e.getMessage());
    }

    @Test
    void unsupportedArchitectureIsRejected() throws IOException {
        Path file = new GgufWriter().putString("general.architecture", "mamba").write(dir.resolve("m.gguf"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufConfigReader.read(GgufFile.read(file)));

        assertTrue(e.getMessage().contains("mamba"), e.getMessage());
    }
}
