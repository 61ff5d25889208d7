package io.sparsemesh.core.tiny;

import io.sparsemesh.core.checkpoint.CheckpointFormat;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.MlpType;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.tensor.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static io.sparsemesh.core.config.IndexerType.FULL;
import static io.sparsemesh.core.config.IndexerType.SHARED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every supported architecture as a tiny Hugging Face checkpoint that the test writes itself. Each
 * opens with the config and storage types it was written with. The engine generates 32 greedy
 * tokens that repeat exactly across engines and do not depend on which other sequences share the
 * batch.
 */
class TinyCheckpointsTest {

    private static final int CONTEXT = 128;

    @TempDir
    static Path dir;

    private static final Map<Architecture, TinyCheckpoint> CHECKPOINTS = new EnumMap<>(Architecture.class);

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        for (Architecture architecture : Architecture.values()) {
            CHECKPOINTS.put(architecture, TinyModels.write(architecture, dir));
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void opensAsWritten(Architecture architecture) {
        TinyCheckpoint tiny = CHECKPOINTS.get(architecture);
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null)) {
            ModelConfig config = checkpoint.config();
            assertEquals(CheckpointFormat.SAFETENSORS, checkpoint.format());
            assertEquals(architecture, config.architecture());
            assertEquals(TinyModels.VOCAB, config.vocabSize());
            assertEquals(((Number) tiny.config().get("num_hidden_layers")).intValue(), config.numLayers());
            assertEquals(List.of(TinyModels.EOS), config.eosTokenIds());
            assertNull(checkpoint.tokenizer(), "no tokenizer.json was written");
            assertEquals(tiny.tensors().all().size() + tiny.fp8().size(), checkpoint.store().tensorNames().size(),
                    "every tensor plus one weight_scale_inv per FP8 weight");
        }
    }

    @Test
    void llamaIsBf16WithTiedHead() {
        try (ModelCheckpoint checkpoint = Checkpoints.open(CHECKPOINTS.get(Architecture.LLAMA).folder(), null)) {
            ModelConfig config = checkpoint.config();
            assertEquals(2, config.numKvHeads());
            assertEquals(RopeLayout.NEOX, config.rope().layout());
            assertTrue(config.tieWordEmbeddings());
            assertFalse(checkpoint.store().contains("lm_head.weight"));
            assertEquals(DType.BF16, checkpoint.store().info("model.layers.1.self_attn.k_proj.weight").dtype());
            assertEquals(DType.BF16, checkpoint.store().info("model.norm.weight").dtype());
        }
    }

    @Test
    void deepseekV3IsShardedByLayer() {
        TinyCheckpoint tiny = CHECKPOINTS.get(Architecture.DEEPSEEK_V3);
        assertTrue(Files.exists(tiny.folder().resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(tiny.folder().resolve("model.safetensors")));
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null)) {
            TensorStore store = checkpoint.store();
            Path first = store.info("model.layers.0.self_attn.q_a_proj.weight").file();
            Path last = store.info("model.layers.2.self_attn.q_a_proj.weight").file();
            assertEquals("model-00001-of-00003.safetensors", first.getFileName().toString());
            assertEquals("model-00003-of-00003.safetensors", last.getFileName().toString());
            assertEquals(first, store.info("model.embed_tokens.weight").file());
            assertEquals(last, store.info("lm_head.weight").file());
            assertEquals(DType.F32, store.info("model.layers.1.mlp.experts.7.down_proj.weight").dtype());
            assertNotNull(checkpoint.config().rope().yarn(), "YaRN from rope_parameters");
            assertNull(checkpoint.config().indexer());
        }
    }

    @Test
    void deepseekV32IsFp8WithOlderConfigForm() {
        try (ModelCheckpoint checkpoint = Checkpoints.open(CHECKPOINTS.get(Architecture.DEEPSEEK_V32).folder(), null)) {
            ModelConfig config = checkpoint.config();
            TensorStore store = checkpoint.store();
            assertNotNull(config.rope().yarn(), "YaRN from rope_scaling");
            assertEquals(40.0, config.rope().yarn().factor());
            assertEquals(List.of(MlpType.DENSE, MlpType.SPARSE, MlpType.SPARSE), config.moe().mlpLayerTypes(),
                    "from first_k_dense_replace and moe_layer_freq");
            assertEquals(List.of(FULL, FULL, FULL), config.indexer().layerTypes());
            assertEquals(TinyModels.INDEX_TOPK, config.indexer().topK());
            assertEquals(RopeLayout.NEOX, config.indexer().ropeLayout(), "DeepSeek's indexer RoPE is half-split");
            assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());

            assertEquals(DType.F8_E4M3, store.info("model.layers.2.self_attn.indexer.wq_b.weight").dtype());
            assertEquals(DType.F8_E4M3, store.info("model.layers.0.mlp.gate_proj.weight").dtype());
            assertEquals(DType.F32, store.info("model.layers.0.mlp.gate_proj.weight_scale_inv").dtype());
            assertEquals(DType.BF16, store.info("model.layers.1.mlp.gate.weight").dtype());
            assertEquals(DType.BF16, store.info("model.layers.1.self_attn.indexer.weights_proj.weight").dtype());
            assertEquals(DType.F32, store.info("model.layers.1.mlp.gate.e_score_correction_bias").dtype());
            assertEquals(DType.BF16, store.info("lm_head.weight").dtype());
        }
    }

    @Test
    void glmSharesIndexerTopK() {
        try (ModelCheckpoint checkpoint = Checkpoints.open(CHECKPOINTS.get(Architecture.GLM_MOE_DSA).folder(), null)) {
            List<IndexerType> types = checkpoint.config().indexer().layerTypes();
            assertEquals(List.of(FULL, SHARED, SHARED, FULL, SHARED), types);
            assertEquals(RopeLayout.INTERLEAVED, checkpoint.config().indexer().ropeLayout());
            assertTrue(checkpoint.store().contains("model.layers.1.self_attn.indexer.wk.weight"),
                    "indexer weights are written for SHARED layers too");
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void greedyTokensRepeatAcrossEngines(Architecture architecture) throws Exception {
        Path folder = CHECKPOINTS.get(architecture).folder();
        int[][] first;
        int[][] second;
        try (LocalEngine engine = LocalEngine.open(folder, null, CONTEXT)) {
            first = Runs.generateAlone(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
        }
        try (LocalEngine engine = LocalEngine.open(folder, null, CONTEXT)) {
            second = Runs.generateAlone(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
        }
        for (int i = 0; i < Runs.PROMPTS.length; i++) {
            assertEquals(Runs.NEW_TOKENS, first[i].length, "prompt " + i + ": EOS must not end the generation");
            assertArrayEquals(first[i], second[i], "prompt " + i);
        }
        assertFalse(Arrays.equals(first[0], first[3]), "different prompts should continue differently");
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void batchedEqualsAlone(Architecture architecture) throws Exception {
        try (LocalEngine engine = LocalEngine.open(CHECKPOINTS.get(architecture).folder(), null, CONTEXT)) {
            int[][] alone = Runs.generateAlone(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
            int[][] together = Runs.generateTogether(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
            for (int i = 0; i < Runs.PROMPTS.length; i++) {
                assertArrayEquals(alone[i], together[i], "prompt " + i);
            }
        }
    }
}
