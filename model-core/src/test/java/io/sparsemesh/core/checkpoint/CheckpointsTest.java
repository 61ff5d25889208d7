package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.config.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointsTest {

    @TempDir
    Path dir;

    @Test
    void opensGguf() {
        try (ModelCheckpoint checkpoint = Checkpoints.open(GgufFileTest.STORIES_GGUF, null)) {
            assertEquals(CheckpointFormat.GGUF, checkpoint.format());
            assertEquals(Architecture.LLAMA, checkpoint.config().architecture());
            assertEquals(128, checkpoint.config().maxPositionEmbeddings());
            assertEquals(GgufFileTest.STORIES_GGUF, checkpoint.tokenizer());
            assertTrue(checkpoint.store().contains("lm_head.weight"));
        }
    }

    @Test
    void opensLlama2c() {
        Path tokenizer = TestData.storiesTokenizerBin();

        try (ModelCheckpoint checkpoint = Checkpoints.open(Llama2cTensorStoreTest.STORIES_BIN, tokenizer)) {
            assertEquals(CheckpointFormat.LLAMA2C, checkpoint.format());
            assertEquals(512, checkpoint.config().maxPositionEmbeddings());
            assertEquals(tokenizer, checkpoint.tokenizer());
        }
    }

    @Test
    void opensHuggingFaceFolder() {
        Path folder = TestData.hfTiny("glm_moe_dsa_tiny_b");

        try (ModelCheckpoint checkpoint = Checkpoints.open(folder, null)) {
            assertEquals(CheckpointFormat.SAFETENSORS, checkpoint.format());
            assertEquals(Architecture.GLM_MOE_DSA, checkpoint.config().architecture());
            assertTrue(checkpoint.store().contains("model.layers.2.self_attn.indexer.wq_b.weight"));
            assertNull(checkpoint.tokenizer());
            assertEquals(0, checkpoint.store().mappedBytes());
        }
    }

    @Test
    void opensSafetensorsFileBesideConfig() throws IOException {
        writeLlama(dir, 16);
        Files.writeString(dir.resolve("tokenizer.json"), "{}");

        try (ModelCheckpoint checkpoint = Checkpoints.open(dir.resolve("model.safetensors"), null)) {
            assertEquals(CheckpointFormat.SAFETENSORS, checkpoint.format());
            assertEquals(dir.resolve("tokenizer.json"), checkpoint.tokenizer());
            assertEquals(2, checkpoint.store().tensorNames().size());
        }
    }

    @Test
    void embeddingShapeMustMatchConfig() throws IOException {
        writeLlama(dir, 12);

        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir, null));

        assertTrue(e.getMessage().contains("[12, 8]"), e.getMessage());
        assertTrue(e.getMessage().contains("[16, 8]"), e.getMessage());
    }

    @Test
    void unknownFormatIsRejected() throws IOException {
        Path file = Files.writeString(dir.resolve("model.pt"), "not a checkpoint");

        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file, null));

        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void missingPathIsRejected() {
        Path missing = dir.resolve("absent.gguf");

        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(missing, null));

        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    /** Writes a one-layer Llama config for a vocabulary of 16 and a checkpoint whose embedding has {@code vocabRows} rows. */
    private static void writeLlama(Path folder, int vocabRows) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("vocab_size", 16);
        config.put("hidden_size", 8);
        config.put("intermediate_size", 12);
        config.put("num_hidden_layers", 1);
        config.put("num_attention_heads", 2);
        SafetensorsWriter.writeConfig(folder, config);
        new SafetensorsWriter()
                .f32("model.embed_tokens.weight", new long[] {vocabRows, 8}, new float[vocabRows * 8])
                .f32("model.norm.weight", new long[] {8}, new float[8])
                .write(folder.resolve("model.safetensors"));
    }
}
