package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.tensor.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cTensorStoreTest {

    static final Path STORIES_BIN = TestData.storiesBin();

    @TempDir
    Path dir;

    @Test
    void storiesConfig() {
        try (Llama2cTensorStore store = Llama2cTensorStore.open(STORIES_BIN)) {
            ModelConfig config = store.config();

            assertEquals(64, config.hiddenSize());
            assertEquals(172, config.intermediateSize());
            assertEquals(5, config.numLayers());
            assertEquals(8, config.numHeads());
            assertEquals(4, config.numKvHeads());
            assertEquals(512, config.vocabSize());
            assertEquals(512, config.maxPositionEmbeddings());
            assertTrue(config.tieWordEmbeddings());
            assertEquals(1, config.bosTokenId());
            assertEquals(List.of(2), config.eosTokenIds());
            assertEquals(RopeLayout.INTERLEAVED, config.rope().layout());
            assertEquals(10_000.0, config.rope().theta());
            assertEquals(1e-5f, config.rmsNormEps());
            assertEquals(2 + 9 * 5, store.tensorNames().size());
            assertFalse(store.contains("lm_head.weight"));
        }
    }

    /**
     * llama.cpp's llama2.c converter copies every array unchanged, so no tensor differs, Q and K
     * included: both files keep the adjacent-pair RoPE order of llama2.c's training code.
     */
    @Test
    void storiesMatchesGguf() {
        try (Llama2cTensorStore bin = Llama2cTensorStore.open(STORIES_BIN);
             GgufTensorStore gguf = GgufTensorStore.open(GgufFileTest.STORIES_GGUF)) {
            for (String name : bin.tensorNames()) {
                long[] shape = bin.info(name).shape();
                assertArrayEquals(shape, gguf.info(name).shape(), name);
                assertArrayEquals(TensorValues.read(bin, name, shape), TensorValues.read(gguf, name, shape), name);
            }
            long[] embeddingShape = {512, 64};
            assertArrayEquals(TensorValues.read(bin, "model.embed_tokens.weight", embeddingShape),
                    TensorValues.read(gguf, "lm_head.weight", embeddingShape));
        }
    }

    @Test
    void unsharedClassifierIsListed() throws IOException {
        int dim = 4;
        int hidden = 6;
        int vocab = 3;
        int seqLen = 2;
        long floats = vocab * dim + dim + 2L * dim * dim + 2L * 2 * dim + dim + 3L * hidden * dim + dim
                + 2L * seqLen * (dim / 2 / 2) + vocab * dim;
        float[] values = new float[(int) floats];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        Path file = writeBin(new int[] {dim, hidden, 1, 2, 1, -vocab, seqLen}, values);

        try (Llama2cTensorStore store = Llama2cTensorStore.open(file)) {
            assertFalse(store.config().tieWordEmbeddings());
            Matrix classifier = store.matrix("lm_head.weight", vocab, dim);
            assertEquals(floats - vocab * dim, classifier.get(0, 0));
            assertEquals(floats - 1, classifier.get(vocab - 1, dim - 1));
            assertArrayEquals(new long[] {2, 4}, store.info("model.layers.0.self_attn.k_proj.weight").shape());
        }
    }

    @Test
    void truncatedFileNamesTensor() throws IOException {
        byte[] whole = Files.readAllBytes(STORIES_BIN);
        Path file = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(whole, 500_000));

        CheckpointException e = assertThrows(CheckpointException.class, () -> Llama2cTensorStore.open(file));

        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("mlp.gate_proj.weight"), e.getMessage());
    }

    @Test
    void newerExportIsRejected() throws IOException {
        Path file = writeBin(new int[] {0x32346b61, 1, 0, 0, 0, 0, 0}, new float[0]);

        CheckpointException e = assertThrows(CheckpointException.class, () -> Llama2cTensorStore.open(file));

        assertTrue(e.getMessage().contains("ak42"), e.getMessage());
    }

    private Path writeBin(int[] header, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(4 * (header.length + values.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (int value : header) {
            bytes.putInt(value);
        }
        for (float value : values) {
            bytes.putFloat(value);
        }
        return Files.write(dir.resolve("model.bin"), bytes.array());
    }
}
