package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufFile;
import io.sparsemesh.core.checkpoint.GgufValueType;
import io.sparsemesh.core.checkpoint.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The three SentencePiece file readers on small files written here, including broken ones. */
class TokenizerReadersTest {

    @TempDir
    Path folder;

    // ---- llama2.c tok*.bin ----

    private static byte[] llama2cFile(int maxTokenLength, List<String> texts, int truncateBy) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(littleEndian(4).putInt(maxTokenLength).array());
        float score = 0;
        for (String text : texts) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(littleEndian(8).putFloat(score--).putInt(bytes.length).array());
            out.writeBytes(bytes);
        }
        byte[] file = out.toByteArray();
        return Arrays.copyOf(file, file.length - truncateBy);
    }

    private static ByteBuffer littleEndian(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void llama2cTypesAreInferred() throws IOException {
        Path file = Files.write(folder.resolve("tok.bin"),
                llama2cFile(6, List.of("<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " a", "", "b c"), 0));
        SentencePieceVocabulary vocabulary = Llama2cTokenizerReader.read(file);
        assertEquals(7, vocabulary.size());
        assertArrayEquals(new String[] {"<unk>", "<s>", "</s>", "<0x41>", "▁a", "", "b▁c"},
                java.util.stream.IntStream.range(0, 7).mapToObj(vocabulary::piece).toArray());
        assertEquals(List.of(TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.BYTE,
                        TokenType.NORMAL, TokenType.CONTROL, TokenType.NORMAL),
                java.util.stream.IntStream.range(0, 7).mapToObj(vocabulary::type).toList());
        assertEquals(0x41, vocabulary.byteValue(3));
        assertEquals(-4f, vocabulary.score(4));
    }

    @Test
    void llama2cTruncatedFile() throws IOException {
        Path file = Files.write(folder.resolve("tok.bin"),
                llama2cFile(6, List.of("<unk>", "\n<s>\n", "\n</s>\n", "hello"), 2));
        CheckpointException error = assertThrows(CheckpointException.class, () -> Llama2cTokenizerReader.read(file));
        assertTrue(error.getMessage().contains("token 3"), error.getMessage());
        assertTrue(error.getMessage().contains("truncated"), error.getMessage());
    }

    @Test
    void llama2cInvalidHeader() throws IOException {
        Path file = Files.write(folder.resolve("tok.bin"), llama2cFile(-1, List.of("<unk>"), 0));
        CheckpointException error = assertThrows(CheckpointException.class, () -> Llama2cTokenizerReader.read(file));
        assertTrue(error.getMessage().contains("max token length -1"), error.getMessage());
    }

    // ---- SentencePiece tokenizer.model ----

    /** Writes protobuf wire format, independently of {@link ProtobufReader}. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            tag(field, 0);
            writeVarint(value);
            return this;
        }

        Proto fixed32(int field, float value) {
            tag(field, 5);
            out.writeBytes(littleEndian(4).putFloat(value).array());
            return this;
        }

        Proto bytes(int field, byte[] value) {
            tag(field, 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.out.toByteArray());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint((long) field << 3 | wireType);
        }

        private void writeVarint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) (value & 0x7F) | 0x80);
                value >>>= 7;
            }
            out.write((int) value);
        }
    }

    private static Proto piece(String text, float score, TokenType type) {
        Proto piece = new Proto().string(1, text).fixed32(2, score);
        return type == TokenType.NORMAL ? piece : piece.varint(3, type.code());
    }

    /** Returns a BPE model of seven pieces; {@code normalizer} may be null to leave the spec out. */
    private static Proto model(int modelType, Proto normalizer) {
        Proto model = new Proto()
                .message(1, piece("<unk>", 0, TokenType.UNKNOWN))
                .message(1, piece("<s>", 0, TokenType.CONTROL))
                .message(1, piece("</s>", 0, TokenType.CONTROL))
                .message(1, piece("<0x0A>", 0, TokenType.BYTE))
                .message(1, piece("▁a", -1, TokenType.NORMAL))
                .message(1, piece("▁", -2, TokenType.NORMAL))
                .message(1, piece("a", -3, TokenType.NORMAL));
        // trainer_spec: model_type, vocab_size (skipped), byte_fallback, pad_id -1 as a 10-byte varint
        Proto trainer = new Proto().varint(3, modelType).varint(4, 7).varint(35, 1).varint(43, -1L)
                .string(45, "<unk>");
        model.message(2, trainer);
        if (normalizer != null) {
            model.message(3, normalizer);
        }
        return model;
    }

    @Test
    void modelPiecesTypesAndOptions() throws IOException {
        Proto normalizer = new Proto().string(1, "identity").bytes(2, new byte[0]).varint(3, 1).varint(4, 0);
        Path file = Files.write(folder.resolve("tokenizer.model"), model(2, normalizer).toBytes());
        SentencePieceTokenizer tokenizer = SentencePieceModelReader.read(file);
        SentencePieceVocabulary vocabulary = tokenizer.vocabulary();
        assertEquals(7, vocabulary.size());
        assertEquals("▁a", vocabulary.piece(4));
        assertEquals(-1f, vocabulary.score(4));
        assertEquals(TokenType.BYTE, vocabulary.type(3));
        assertEquals(3, vocabulary.byteId('\n'));
        assertEquals(1, vocabulary.bosId());
        assertEquals(2, vocabulary.eosId());
        assertEquals(0, vocabulary.unknownId());
        assertEquals(SentencePieceOptions.LLAMA, tokenizer.options());
        assertArrayEquals(new int[] {1, 4, 5, 4}, tokenizer.encode("a  a", true));
    }

    @Test
    void modelNormalizerDefaults() throws IOException {
        Path file = Files.write(folder.resolve("tokenizer.model"), model(2, null).toBytes());
        SentencePieceTokenizer tokenizer = SentencePieceModelReader.read(file);
        // the proto's defaults: add_dummy_prefix and remove_extra_whitespaces both true
        assertEquals(new SentencePieceOptions(true, true, true), tokenizer.options());
        assertArrayEquals(new int[] {1, 4, 4}, tokenizer.encode("a  a", true));
    }

    @Test
    void modelUnigramIsRejected() throws IOException {
        Path file = Files.write(folder.resolve("tokenizer.model"), model(1, null).toBytes());
        CheckpointException error = assertThrows(CheckpointException.class, () -> SentencePieceModelReader.read(file));
        assertTrue(error.getMessage().contains("is a UNIGRAM model"), error.getMessage());
    }

    @Test
    void modelTruncatedFile() throws IOException {
        byte[] bytes = model(2, null).toBytes();
        Path file = Files.write(folder.resolve("tokenizer.model"), Arrays.copyOf(bytes, bytes.length - 3));
        CheckpointException error = assertThrows(CheckpointException.class, () -> SentencePieceModelReader.read(file));
        assertTrue(error.getMessage().contains("malformed protobuf"), error.getMessage());
        assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
    }

    @Test
    void modelNotProtobuf() throws IOException {
        Path file = Files.writeString(folder.resolve("tokenizer.model"), "{\"model\": \"not protobuf\"}");
        CheckpointException error = assertThrows(CheckpointException.class, () -> SentencePieceModelReader.read(file));
        assertTrue(error.getMessage().contains("cannot be read"), error.getMessage());
    }

    // ---- GGUF metadata ----

    private static GgufWriter ggufTokenizer(String model, List<String> tokens) {
        return new GgufWriter()
                .putString("general.architecture", "llama")
                .putString(GgufTokenizerReader.MODEL_KEY, model)
                .putArray(GgufTokenizerReader.TOKENS_KEY, GgufValueType.STRING, tokens);
    }

    @Test
    void ggufDefaultsAndMissingIds() throws IOException {
        Path file = ggufTokenizer("llama", List.of("<unk>", "<s>", "</s>", "▁a", "a"))
                .putUint32(GgufTokenizerReader.UNKNOWN_ID_KEY, 0xFFFFFFFFL)
                .put(GgufTokenizerReader.ADD_BOS_KEY, GgufValueType.BOOL, false)
                .put(GgufTokenizerReader.ADD_SPACE_PREFIX_KEY, GgufValueType.BOOL, false)
                .write(folder.resolve("tokenizer.gguf"));
        SentencePieceTokenizer tokenizer = GgufTokenizerReader.read(GgufFile.read(file));
        assertEquals(-1, tokenizer.vocabulary().unknownId());
        assertEquals(1, tokenizer.bosId());
        assertEquals(TokenType.NORMAL, tokenizer.vocabulary().type(0));
        assertEquals(new SentencePieceOptions(false, false, false), tokenizer.options());
        assertArrayEquals(new int[] {4}, tokenizer.encode("a", false));
    }

    @Test
    void ggufOtherTokenizerTypeIsRejected() throws IOException {
        Path file = ggufTokenizer("gpt2", List.of("a", "b")).write(folder.resolve("tokenizer.gguf"));
        CheckpointException error = assertThrows(CheckpointException.class,
                () -> GgufTokenizerReader.read(GgufFile.read(file)));
        assertTrue(error.getMessage().contains("tokenizer type 'gpt2'"), error.getMessage());
        assertTrue(error.getMessage().contains("tokenizer.json"), error.getMessage());
    }

    @Test
    void ggufArraysOfDifferentLengths() throws IOException {
        Path file = ggufTokenizer("llama", List.of("<unk>", "<s>", "</s>"))
                .putArray(GgufTokenizerReader.SCORES_KEY, GgufValueType.FLOAT32, List.of(0f, 0f))
                .write(folder.resolve("tokenizer.gguf"));
        CheckpointException error = assertThrows(CheckpointException.class,
                () -> GgufTokenizerReader.read(GgufFile.read(file)));
        assertTrue(error.getMessage().contains("'tokenizer.ggml.scores' has 2 entries"), error.getMessage());
    }

    @Test
    void ggufWithoutTokenizer() throws IOException {
        Path file = new GgufWriter().putString("general.architecture", "llama").write(folder.resolve("model.gguf"));
        CheckpointException error = assertThrows(CheckpointException.class,
                () -> GgufTokenizerReader.read(GgufFile.read(file)));
        assertTrue(error.getMessage().contains("has no tokenizer"), error.getMessage());
    }

    @Test
    void openDispatchesOnFileKind() {
        assertEquals(512, Tokenizers.open(TestData.stories("tok512.bin")).vocabSize());
        assertEquals(512, Tokenizers.open(TestData.stories("tok512.model")).vocabSize());
        assertEquals(512, Tokenizers.open(TestData.stories("stories260K.gguf")).vocabSize());
        CheckpointException error = assertThrows(CheckpointException.class,
                () -> Tokenizers.open(TestData.stories("absent.bin")));
        assertTrue(error.getMessage().contains("does not exist"), error.getMessage());
    }
}
