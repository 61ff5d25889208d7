package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.tensor.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTensorStoreTest {

    static final Path DEEPSEEK_TINY = TestData.hfTiny("deepseek_v3_tiny");

    @TempDir
    Path dir;

    @Test
    void deepseekTinyMatchesFileBytes() throws IOException {
        Path file = DEEPSEEK_TINY.resolve("model.safetensors");
        byte[] whole = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = JsonMapper.builder().build().readTree(new String(whole, 8, (int) headerLength, StandardCharsets.UTF_8));
        String name = "model.layers.1.mlp.experts.5.up_proj.weight";
        long begin = 8 + headerLength + header.get(name).get("data_offsets").get(0).asLong();

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(DEEPSEEK_TINY)) {
            Matrix up = store.matrix(name, 32, 64);

            assertEquals(header.size() - 1, store.tensorNames().size());
            ByteBuffer data = ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < 32; r++) {
                for (int c = 0; c < 64; c++) {
                    assertEquals(data.getFloat((int) (begin + 4L * (r * 64 + c))), up.get(r, c), "up[" + r + "][" + c + "]");
                }
            }
            assertEquals(32 * 64 * 4L, store.mappedBytes());
        }
    }

    @Test
    void shardedFolderFollowsIndex() throws IOException {
        float[] embed = GgufTensorStoreTest.random(16 * 8, 1);
        float[] norm = GgufTensorStoreTest.random(8, 2);
        float[] head = GgufTensorStoreTest.random(16 * 8, 3);
        SafetensorsWriter.writeSharded(dir, List.of(
                new SafetensorsWriter().f32("model.embed_tokens.weight", new long[] {16, 8}, embed),
                new SafetensorsWriter()
                        .f32("model.norm.weight", new long[] {8}, norm)
                        .f32("lm_head.weight", new long[] {16, 8}, head)));

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(dir)) {
            assertEquals(3, store.tensorNames().size());
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), store.info("lm_head.weight").file());
            assertArrayEquals(norm, store.vector("model.norm.weight", 8));
            Matrix lmHead = store.matrix("lm_head.weight", 16, 8);
            assertEquals(head[5 * 8 + 3], lmHead.get(5, 3));
            assertEquals(embed[15 * 8 + 7], store.matrix("model.embed_tokens.weight", 16, 8).get(15, 7));
            assertEquals((8 + 2 * 16 * 8) * 4L, store.mappedBytes());
        }
    }

    @Test
    void indexNamingAbsentTensorIsRejected() throws IOException {
        SafetensorsWriter.writeSharded(dir, List.of(new SafetensorsWriter().f32("a", new long[] {1}, new float[1])));
        Files.writeString(dir.resolve(SafetensorsTensorStore.INDEX_FILE),
                "{\"weight_map\": {\"a\": \"model-00001-of-00001.safetensors\", \"b\": \"model-00001-of-00001.safetensors\"}}");

        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsTensorStore.open(dir));

        assertTrue(e.getMessage().contains("[b]"), e.getMessage());
    }

    @Test
    void bf16ValuesRoundToNearest() throws IOException {
        float[] values = GgufTensorStoreTest.random(6 * 10, 4);
        Path file = new SafetensorsWriter().bf16("w", new long[] {6, 10}, values).write(dir.resolve("bf16.safetensors"));

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(file)) {
            Matrix w = store.matrix("w", 6, 10);

            for (int i = 0; i < values.length; i++) {
                float expected = SafetensorsWriter.fromBf16(SafetensorsWriter.toBf16(values[i]));
                assertEquals(expected, w.get(i / 10, i % 10), "w[" + i + "]");
                assertEquals(values[i], w.get(i / 10, i % 10), Math.abs(values[i]) / 128, "w[" + i + "] near input");
            }
        }
    }

    @Test
    void fp8IsDequantisedByBlock() throws IOException {
        int rows = 200;
        int cols = 300;
        Random random = new Random(5);
        byte[] bits = new byte[rows * cols];
        for (int i = 0; i < bits.length; i++) {
            do {
                bits[i] = (byte) random.nextInt(256);
            } while ((bits[i] & 0x7F) == 0x7F);
        }
        float[] scales = {0.5f, 2f, -1f, 0.125f, 3f, 1f};
        Path file = new SafetensorsWriter()
                .fp8("w.weight", new long[] {rows, cols}, bits)
                .f32("w.weight_scale_inv", new long[] {2, 3}, scales)
                .write(dir.resolve("fp8.safetensors"));

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(file)) {
            Matrix w = store.matrix("w.weight", rows, cols);

            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    float expected = (float) (e4m3(bits[r * cols + c]) * scales[(r / 128) * 3 + c / 128]);
                    assertEquals(expected, w.get(r, c), "w[" + r + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void fp8WithoutScalesIsRejected() throws IOException {
        Path file = new SafetensorsWriter().fp8("w.weight", new long[] {2, 2}, new byte[4]).write(dir.resolve("f.safetensors"));

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> store.matrix("w.weight", 2, 2));

            assertTrue(e.getMessage().contains("w.weight_scale_inv"), e.getMessage());
        }
    }

    @Test
    void truncatedFileNamesTensorAndFile() throws IOException {
        byte[] whole = new SafetensorsWriter()
                .f32("a", new long[] {4}, new float[4])
                .f32("b", new long[] {4}, new float[4])
                .toBytes();
        Path file = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(whole, whole.length - 3));

        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsTensorStore.open(file));

        assertTrue(e.getMessage().contains("'b'"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedHeaderIsRejected() throws IOException {
        byte[] whole = new SafetensorsWriter().f32("a", new long[] {4}, new float[4]).toBytes();
        Path file = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(whole, 20));

        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsTensorStore.open(file));

        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void unknownDtypeNamesTensorAndDtype() throws IOException {
        Path file = new SafetensorsWriter()
                .raw("w.weight", "F64", new long[] {2}, new byte[16])
                .f32("b", new long[] {1}, new float[1])
                .write(dir.resolve("f64.safetensors"));

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(file)) {
            assertTrue(store.contains("w.weight"));

            CheckpointException e = assertThrows(CheckpointException.class, () -> store.vector("w.weight", 2));

            assertTrue(e.getMessage().contains("'w.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("F64"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void offsetsDisagreeingWithShapeAreRejected() throws IOException {
        Path file = new SafetensorsWriter().raw("w", "F32", new long[] {3}, new byte[8]).write(dir.resolve("bad.safetensors"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsTensorStore.open(file));

        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void missingTensorNamesCloseNames() {
        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(DEEPSEEK_TINY)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.matrix("model.layers.1.mlp.experts.5.up_proj.weights", 32, 64));

            assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.5.up_proj.weights"), e.getMessage());
            assertTrue(e.getMessage().contains(DEEPSEEK_TINY.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.5.up_proj.weight,"), e.getMessage());
        }
    }

    @Test
    void wrongShapeNamesExpectedAndActual() {
        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(DEEPSEEK_TINY)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.matrix("model.layers.0.self_attn.q_b_proj.weight", 32, 96));

            assertTrue(e.getMessage().contains("has shape [96, 32]"), e.getMessage());
            assertTrue(e.getMessage().contains("expects [32, 96]"), e.getMessage());
        }
    }

    @Test
    void tensorPastTwoGibIsMapped() throws IOException {
        long padding = 2_500_000_000L;
        float[] values = GgufTensorStoreTest.random(4 * 8, 6);
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + padding + "],\"data_offsets\":[0," + padding + "]},"
                + "\"far.weight\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[" + padding + "," + (padding + 128) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8 + json.length + padding + 128);
            ByteBuffer start = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            start.putLong(json.length).put(json);
            raf.write(start.array());
            ByteBuffer data = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
            for (float value : values) {
                data.putFloat(value);
            }
            raf.seek(8 + json.length + padding);
            raf.write(data.array());
        }

        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(file)) {
            assertTrue(store.info("far.weight").offset() > Integer.MAX_VALUE);

            Matrix far = store.matrix("far.weight", 4, 8);

            assertEquals(values[0], far.get(0, 0));
            assertEquals(values[31], far.get(3, 7));
            assertEquals(128, store.mappedBytes());
        }
    }

    /** Decodes FP8 E4M3 with the formula of the OCP FP8 specification, apart from the store's table. */
    private static double e4m3(byte bits) {
        int sign = (bits & 0x80) != 0 ? -1 : 1;
        int exponent = (bits >> 3) & 0xF;
        int mantissa = bits & 0x7;
        if (exponent == 0) {
            return sign * Math.pow(2, -6) * (mantissa / 8.0);
        }
        return sign * Math.pow(2, exponent - 7) * (1 + mantissa / 8.0);
    }
}
