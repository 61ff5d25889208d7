package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {

    static final Path STORIES_GGUF = TestData.storiesGguf();

    @TempDir
    Path dir;

    @Test
    void storiesHeader() {
        GgufFile gguf = GgufFile.read(STORIES_GGUF);

        assertEquals(3, gguf.version());
        assertEquals(19, gguf.metadata().size());
        assertEquals(48, gguf.tensors().size());
        assertEquals(32, gguf.alignment());
        assertEquals(14176, gguf.dataOffset());
        assertEquals("llama", gguf.architecture());
        assertEquals(128, gguf.getInt("llama.context_length"));
        assertEquals(172, gguf.getInt("llama.feed_forward_length"));
        assertEquals(1e-5f, gguf.getFloat("llama.attention.layer_norm_rms_epsilon"), 1e-12f);
        assertEquals(4294967295L, gguf.getLong("tokenizer.ggml.padding_token_id"));
    }

    @Test
    void storiesTokenizerArrays() {
        GgufFile gguf = GgufFile.read(STORIES_GGUF);

        String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        float[] scores = gguf.getFloatArray("tokenizer.ggml.scores");
        int[] types = gguf.getIntArray("tokenizer.ggml.token_type");

        assertEquals(512, tokens.length);
        assertEquals(List.of("<unk>", "<s>", "</s>"), Arrays.asList(tokens).subList(0, 3));
        assertEquals(512, scores.length);
        assertEquals(512, types.length);
        assertArrayEquals(new int[] {2, 3, 3}, Arrays.copyOf(types, 3));
        assertEquals("llama", gguf.getString("tokenizer.ggml.model"));
    }

    @Test
    void storiesTensorInfos() {
        GgufFile gguf = GgufFile.read(STORIES_GGUF);

        GgufTensor embeddings = gguf.tensors().get("token_embd.weight");
        GgufTensor down = gguf.tensors().get("blk.0.ffn_down.weight");

        assertArrayEquals(new long[] {64, 512}, embeddings.ggufDims());
        assertArrayEquals(new long[] {512, 64}, embeddings.shape());
        assertArrayEquals(new long[] {64, 172}, down.shape());
        assertEquals(0, embeddings.ggmlType());
        assertEquals(355840, down.relativeOffset());
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        Path file = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 250)
                .put("i8", GgufValueType.INT8, -5)
                .put("u16", GgufValueType.UINT16, 65000)
                .put("i16", GgufValueType.INT16, -30000)
                .put("u32", GgufValueType.UINT32, (int) 4000000000L)
                .put("i32", GgufValueType.INT32, -2000000000)
                .put("f32", GgufValueType.FLOAT32, 1.5f)
                .put("bool", GgufValueType.BOOL, true)
                .put("str", GgufValueType.STRING, "héllo")
                .put("u64", GgufValueType.UINT64, 1L << 40)
                .put("i64", GgufValueType.INT64, -(1L << 40))
                .put("f64", GgufValueType.FLOAT64, 0.1)
                .putArray("nested", GgufValueType.ARRAY, List.of(
                        new GgufWriter.Array(GgufValueType.INT16, List.of(1, -2)),
                        new GgufWriter.Array(GgufValueType.STRING, List.of("a", "bc", "")),
                        new GgufWriter.Array(GgufValueType.ARRAY, List.of(
                                new GgufWriter.Array(GgufValueType.BOOL, List.of(false, true))))))
                .write(dir.resolve("types.gguf"));

        GgufFile gguf = GgufFile.read(file);

        assertEquals(250, gguf.getInt("u8"));
        assertEquals(-5, gguf.getInt("i8"));
        assertEquals(65000, gguf.getInt("u16"));
        assertEquals(-30000, gguf.getInt("i16"));
        assertEquals(4000000000L, gguf.getLong("u32"));
        assertThrows(CheckpointException.class, () -> gguf.getInt("u32"));
        assertEquals(-2000000000, gguf.getInt("i32"));
        assertEquals(1.5f, gguf.getFloat("f32"));
        assertTrue(gguf.getBoolean("bool"));
        assertEquals("héllo", gguf.getString("str"));
        assertEquals(1L << 40, gguf.getLong("u64"));
        assertEquals(-(1L << 40), gguf.getLong("i64"));
        assertEquals(0.1, gguf.getDouble("f64"));
        for (GgufValueType type : GgufValueType.values()) {
            String key = switch (type) {
                case UINT8 -> "u8";
                case INT8 -> "i8";
                case UINT16 -> "u16";
                case INT16 -> "i16";
                case UINT32 -> "u32";
                case INT32 -> "i32";
                case FLOAT32 -> "f32";
                case BOOL -> "bool";
                case STRING -> "str";
                case ARRAY -> "nested";
                case UINT64 -> "u64";
                case INT64 -> "i64";
                case FLOAT64 -> "f64";
            };
            assertEquals(type, gguf.get(key).type(), key);
        }

        GgufArray nested = gguf.getArray("nested");
        assertEquals(GgufValueType.ARRAY, nested.elementType());
        assertEquals(3, nested.size());
        assertArrayEquals(new int[] {1, -2}, nested.arrayAt(0).toIntArray());
        assertArrayEquals(new String[] {"a", "bc", ""}, nested.arrayAt(1).toStringArray());
        GgufArray bools = nested.arrayAt(2).arrayAt(0);
        assertFalse(bools.booleanAt(0));
        assertTrue(bools.booleanAt(1));
        assertEquals(GgufValueType.BOOL, nested.get(2).asArray().get(0).asArray().get(1).type());
    }

    @Test
    void unsignedArraysWiden() throws IOException {
        Path file = new GgufWriter()
                .putArray("u8s", GgufValueType.UINT8, List.of(255, 1))
                .putArray("u32s", GgufValueType.UINT32, List.of(-1, 7))
                .putArray("f64s", GgufValueType.FLOAT64, List.of(0.25, -2.0))
                .write(dir.resolve("arrays.gguf"));

        GgufFile gguf = GgufFile.read(file);

        assertArrayEquals(new int[] {255, 1}, gguf.getIntArray("u8s"));
        assertArrayEquals(new long[] {4294967295L, 7}, gguf.getLongArray("u32s"));
        assertThrows(CheckpointException.class, () -> gguf.getIntArray("u32s"));
        assertArrayEquals(new float[] {0.25f, -2f}, gguf.getFloatArray("f64s"));
        assertThrows(CheckpointException.class, () -> gguf.getStringArray("f64s"));
    }

    @Test
    void missingKeyNamesSimilarKeys() {
        GgufFile gguf = GgufFile.read(STORIES_GGUF);

        CheckpointException e = assertThrows(CheckpointException.class, () -> gguf.getInt("llama.expert_count"));

        assertTrue(e.getMessage().contains("llama.expert_count"), e.getMessage());
        assertTrue(e.getMessage().contains("llama.block_count"), e.getMessage());
        assertEquals(7, gguf.getInt("llama.expert_count", 7));
        assertFalse(gguf.contains("llama.expert_count"));
    }

    @Test
    void customAlignmentMovesDataSection() throws IOException {
        Path file = new GgufWriter()
                .put(GgufFile.ALIGNMENT_KEY, GgufValueType.UINT32, 256)
                .tensorF32("a", new long[] {3}, new float[] {1, 2, 3})
                .tensorF32("b", new long[] {2}, new float[] {4, 5})
                .write(dir.resolve("aligned.gguf"));

        GgufFile gguf = GgufFile.read(file);

        assertEquals(256, gguf.alignment());
        assertEquals(0, gguf.dataOffset() % 256);
        assertEquals(256, gguf.tensors().get("b").relativeOffset());
    }

    @Test
    void version2IsRead() throws IOException {
        Path file = new GgufWriter().version(2).putString("general.architecture", "llama").write(dir.resolve("v2.gguf"));

        assertEquals(2, GgufFile.read(file).version());
    }

    @Test
    void version1IsRejected() throws IOException {
        Path file = new GgufWriter().version(1).write(dir.resolve("v1.gguf"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.read(file));

        assertTrue(e.getMessage().contains("version 1"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void unknownVersionIsRejected() throws IOException {
        Path file = new GgufWriter().version(4).write(dir.resolve("v4.gguf"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.read(file));

        assertTrue(e.getMessage().contains("version 4"), e.getMessage());
    }

    @Test
    void badMagicIsRejected() throws IOException {
        Path file = new GgufWriter().magic(0x4C4C5546).write(dir.resolve("bad.gguf"));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.read(file));

        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        assertFalse(GgufFile.hasMagic(file));
        assertTrue(GgufFile.hasMagic(STORIES_GGUF));
    }

    @Test
    void truncatedHeaderIsRejected() throws IOException {
        byte[] whole = Files.readAllBytes(STORIES_GGUF);
        Path file = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(whole, 5000));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.read(file));

        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedDataIsRejected() throws IOException {
        byte[] whole = Files.readAllBytes(STORIES_GGUF);
        Path file = Files.write(dir.resolve("short.gguf"), Arrays.copyOf(whole, whole.length - 100));

        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.read(file));

        assertTrue(e.getMessage().contains("blk.4.ffn_norm.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void unsupportedTensorTypeIsKept() throws IOException {
        Path file = new GgufWriter()
                .tensor("blk.0.attn_q.weight", 13, new long[] {256, 1}, new byte[176])
                .write(dir.resolve("q5k.gguf"));

        GgufTensor tensor = GgufFile.read(file).tensors().get("blk.0.attn_q.weight");

        assertNull(tensor.dtype());
        assertEquals("Q5_K", tensor.ggmlTypeName());
    }
}
