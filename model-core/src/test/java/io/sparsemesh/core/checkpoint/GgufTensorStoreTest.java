package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;
import io.sparsemesh.core.tensor.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufTensorStoreTest {

    private static final Path STORIES = GgufFileTest.STORIES_GGUF;

    @TempDir
    Path dir;

    @Test
    void storiesNamesAreHuggingFace() {
        try (GgufTensorStore store = GgufTensorStore.open(STORIES)) {
            assertEquals(48, store.tensorNames().size());
            for (String name : List.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                    "model.layers.4.input_layernorm.weight", "model.layers.4.self_attn.q_proj.weight",
                    "model.layers.4.self_attn.k_proj.weight", "model.layers.4.self_attn.v_proj.weight",
                    "model.layers.4.self_attn.o_proj.weight", "model.layers.4.post_attention_layernorm.weight",
                    "model.layers.4.mlp.gate_proj.weight", "model.layers.4.mlp.up_proj.weight",
                    "model.layers.4.mlp.down_proj.weight")) {
                assertTrue(store.contains(name), name);
            }
            assertArrayEquals(new long[] {32, 64}, store.info("model.layers.0.self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[] {64, 172}, store.info("model.layers.0.mlp.down_proj.weight").shape());
            assertEquals("blk.0.ffn_down.weight", store.ggufName("model.layers.0.mlp.down_proj.weight"));
        }
    }

    @Test
    void storiesMatrixMatchesFileBytes() throws IOException {
        try (GgufTensorStore store = GgufTensorStore.open(STORIES)) {
            TensorInfo info = store.info("model.layers.2.mlp.gate_proj.weight");
            float[] expected = readF32(STORIES, info.offset(), 172 * 64);

            Matrix gate = store.matrix("model.layers.2.mlp.gate_proj.weight", 172, 64);

            for (int r = 0; r < 172; r++) {
                for (int c = 0; c < 64; c++) {
                    assertEquals(expected[r * 64 + c], gate.get(r, c), "gate[" + r + "][" + c + "]");
                }
            }
            assertEquals(172 * 64 * 4L, store.mappedBytes());
        }
    }

    @Test
    void storiesVectorMatchesFileBytes() throws IOException {
        try (GgufTensorStore store = GgufTensorStore.open(STORIES)) {
            TensorInfo info = store.info("model.norm.weight");

            float[] norm = store.vector("model.norm.weight", 64);

            assertArrayEquals(readF32(STORIES, info.offset(), 64), norm);
        }
    }

    @Test
    void missingTensorNamesCloseNames() {
        try (GgufTensorStore store = GgufTensorStore.open(STORIES)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.matrix("model.layers.0.self_attn.q_prj.weight", 64, 64));

            assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_prj.weight"), e.getMessage());
            assertTrue(e.getMessage().contains(STORIES.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj.weight"), e.getMessage());
        }
    }

    @Test
    void wrongShapeNamesBothShapes() {
        try (GgufTensorStore store = GgufTensorStore.open(STORIES)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.matrix("model.layers.0.self_attn.k_proj.weight", 64, 64));

            assertTrue(e.getMessage().contains("[32, 64]"), e.getMessage());
            assertTrue(e.getMessage().contains("[64, 64]"), e.getMessage());
            assertEquals(0, store.mappedBytes());
        }
    }

    @Test
    void stackedExpertsAreMappedOneByOne() throws IOException {
        int experts = 4;
        int ff = 8;
        int hidden = 32;
        float[] gate = random(experts * ff * hidden, 1);
        float[] down = random(experts * hidden * ff, 2);
        Path file = new GgufWriter()
                .putString("general.architecture", "deepseek2")
                .tensorF32("blk.1.ffn_gate_exps.weight", new long[] {hidden, ff, experts}, gate)
                .tensorF32("blk.1.ffn_down_exps.weight", new long[] {ff, hidden, experts}, down)
                .tensorF32("blk.1.exp_probs_b.bias", new long[] {experts}, new float[] {1, 2, 3, 4})
                .write(dir.resolve("experts.gguf"));

        try (GgufTensorStore store = GgufTensorStore.open(file)) {
            Matrix gate2 = store.matrix("model.layers.1.mlp.experts.2.gate_proj.weight", ff, hidden);
            Matrix down3 = store.matrix("model.layers.1.mlp.experts.3.down_proj.weight", hidden, ff);

            for (int r = 0; r < ff; r++) {
                for (int c = 0; c < hidden; c++) {
                    assertEquals(gate[(2 * ff + r) * hidden + c], gate2.get(r, c), "gate2[" + r + "][" + c + "]");
                }
            }
            for (int r = 0; r < hidden; r++) {
                for (int c = 0; c < ff; c++) {
                    assertEquals(down[(3 * hidden + r) * ff + c], down3.get(r, c), "down3[" + r + "][" + c + "]");
                }
            }
            assertEquals(2L * ff * hidden * 4, store.mappedBytes());
            assertArrayEquals(new float[] {1, 2, 3, 4},
                    store.vector("model.layers.1.mlp.gate.e_score_correction_bias", experts));
            assertEquals(experts * 2 + 1, store.tensorNames().size());
        }
    }

    @Test
    void deepseekNamesAreHuggingFace() throws IOException {
        GgufWriter writer = new GgufWriter().putString("general.architecture", "deepseek2");
        List<String> ggufNames = List.of("attn_q_a", "attn_q_a_norm", "attn_q_b", "attn_kv_a_mqa", "attn_kv_a_norm",
                "attn_kv_b", "attn_output", "ffn_gate_inp", "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp");
        for (String name : ggufNames) {
            writer.tensorF32("blk.3." + name + ".weight", new long[] {4}, new float[4]);
        }
        writer.tensorF32("blk.0.attn_q.weight", new long[] {4}, new float[4]);

        try (GgufTensorStore store = GgufTensorStore.open(writer.write(dir.resolve("names.gguf")))) {
            for (String module : List.of("self_attn.q_a_proj", "self_attn.q_a_layernorm", "self_attn.q_b_proj",
                    "self_attn.kv_a_proj_with_mqa", "self_attn.kv_a_layernorm", "self_attn.kv_b_proj",
                    "self_attn.o_proj", "mlp.gate", "mlp.shared_experts.gate_proj", "mlp.shared_experts.up_proj",
                    "mlp.shared_experts.down_proj")) {
                assertTrue(store.contains("model.layers.3." + module + ".weight"), module);
            }
            assertTrue(store.contains("model.layers.0.self_attn.q_proj.weight"));
        }
    }

    @Test
    void splitKvBIsJoined() throws IOException {
        int heads = 2;
        int kvLora = 32;
        int nope = 3;
        int valueDim = 5;
        Random random = new Random(7);
        float[][] kvB = new float[heads * (nope + valueDim)][kvLora];
        for (float[] row : kvB) {
            for (int c = 0; c < kvLora; c++) {
                row[c] = random.nextFloat();
            }
        }
        // llama.cpp's split: k_b[h][c][i] = kv_b[h·(nope+v) + i][c], v_b[h][j][c] = kv_b[h·(nope+v) + nope + j][c]
        float[] keyHalf = new float[heads * kvLora * nope];
        float[] valueHalf = new float[heads * valueDim * kvLora];
        for (int h = 0; h < heads; h++) {
            for (int c = 0; c < kvLora; c++) {
                for (int i = 0; i < nope; i++) {
                    keyHalf[(h * kvLora + c) * nope + i] = kvB[h * (nope + valueDim) + i][c];
                }
            }
            for (int j = 0; j < valueDim; j++) {
                for (int c = 0; c < kvLora; c++) {
                    valueHalf[(h * valueDim + j) * kvLora + c] = kvB[h * (nope + valueDim) + nope + j][c];
                }
            }
        }
        Path file = new GgufWriter()
                .putString("general.architecture", "deepseek2")
                .tensorF32("blk.0.attn_k_b.weight", new long[] {nope, kvLora, heads}, keyHalf)
                .tensorF32("blk.0.attn_v_b.weight", new long[] {kvLora, valueDim, heads}, valueHalf)
                .write(dir.resolve("split.gguf"));

        try (GgufTensorStore store = GgufTensorStore.open(file)) {
            String name = "model.layers.0.self_attn.kv_b_proj.weight";
            assertTrue(store.contains(name));
            assertEquals(-1, store.info(name).offset());

            Matrix joined = store.matrix(name, heads * (nope + valueDim), kvLora);

            for (int r = 0; r < kvB.length; r++) {
                for (int c = 0; c < kvLora; c++) {
                    assertEquals(kvB[r][c], joined.get(r, c), "kv_b[" + r + "][" + c + "]");
                }
            }
            assertArrayEquals(new long[] {heads, kvLora, nope}, store.info("model.layers.0.self_attn.k_b_proj.weight").shape());
        }
    }

    @Test
    void q8TensorIsDecoded() throws IOException {
        // one Q8_0 block: F16 scale 0.5, then 32 signed bytes
        ByteBuffer block = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        block.putShort(Float.floatToFloat16(0.5f));
        for (int i = 0; i < 32; i++) {
            block.put((byte) (i - 16));
        }
        Path file = new GgufWriter()
                .tensor("blk.0.attn_q.weight", 8, new long[] {32, 1}, block.array())
                .write(dir.resolve("q8.gguf"));

        try (GgufTensorStore store = GgufTensorStore.open(file)) {
            Matrix q = store.matrix("model.layers.0.self_attn.q_proj.weight", 1, 32);

            for (int i = 0; i < 32; i++) {
                assertEquals(0.5f * (i - 16), q.get(0, i), "q[" + i + "]");
            }
            assertEquals(34, store.mappedBytes());
        }
    }

    @Test
    void kQuantTensorsHaveSuperBlockSizes() throws IOException {
        Path file = new GgufWriter()
                .tensor("blk.0.ffn_up.weight", 12, new long[] {512, 3}, new byte[6 * 144])
                .tensor("blk.0.ffn_down.weight", 14, new long[] {256, 2}, new byte[2 * 210])
                .write(dir.resolve("k.gguf"));

        try (GgufTensorStore store = GgufTensorStore.open(file)) {
            TensorInfo up = store.info("model.layers.0.mlp.up_proj.weight");
            TensorInfo down = store.info("model.layers.0.mlp.down_proj.weight");

            assertEquals(DType.Q4_K, up.dtype());
            assertEquals(6 * 144, up.byteSize());
            assertEquals(DType.Q6_K, down.dtype());
            assertEquals(2 * 210, down.byteSize());
            assertEquals(GgufFile.alignUp(up.offset() + up.byteSize(), 32), down.offset());
        }
    }

    @Test
    void unsupportedTypeNamesTensorTypeAndFile() throws IOException {
        Path file = new GgufWriter()
                .tensor("blk.0.attn_q.weight", 13, new long[] {256, 1}, new byte[176])
                .write(dir.resolve("q5k.gguf"));

        try (GgufTensorStore store = GgufTensorStore.open(file)) {
            assertTrue(store.contains("model.layers.0.self_attn.q_proj.weight"));

            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.matrix("model.layers.0.self_attn.q_proj.weight", 1, 256));

            assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("13 (Q5_K)"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void closedStoreRejectsMapping() {
        GgufTensorStore store = GgufTensorStore.open(STORIES);
        store.close();

        assertThrows(IllegalStateException.class, () -> store.vector("model.norm.weight", 64));
        assertFalse(store.tensorNames().isEmpty());
    }

    static float[] readF32(Path file, long offset, int count) throws IOException {
        byte[] bytes = new byte[4 * count];
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            raf.seek(offset);
            raf.readFully(bytes);
        }
        float[] out = new float[count];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static float[] random(int count, long seed) {
        Random random = new Random(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }
}
