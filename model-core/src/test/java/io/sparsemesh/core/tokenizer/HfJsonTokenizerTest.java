package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.sparsemesh.core.tokenizer.HfFixtures.BYTE_LEVEL_BOS;
import static io.sparsemesh.core.tokenizer.HfFixtures.BYTE_LEVEL_EOS;
import static io.sparsemesh.core.tokenizer.HfFixtures.BYTE_LEVEL_EOT;
import static io.sparsemesh.core.tokenizer.HfFixtures.BYTE_LEVEL_TOOL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hugging Face tokenizer.json tokenizers written by {@link HfFixtures}. Expected ids follow by
 * hand from the fixture's merges: the GPT-2 regex splits "hello world" into "hello" and " world",
 * and the merges, lowest rank first, build "hello" = 261 and "Ġworld" = 266.
 */
class HfJsonTokenizerTest {

    @TempDir
    static Path folder;

    private static HfJsonTokenizer byteLevel;
    private static HfJsonTokenizer metaspace;

    @BeforeAll
    static void open() throws IOException {
        byteLevel = Tokenizers.openHuggingFace(HfFixtures.writeByteLevel(folder.resolve("byte-level"), true));
        metaspace = Tokenizers.openHuggingFace(HfFixtures.writeMetaspace(folder.resolve("metaspace")));
    }

    @AfterAll
    static void close() {
        byteLevel.close();
        metaspace.close();
    }

    @Test
    void byteLevelReadsSpecialTokens() {
        assertEquals(272, byteLevel.vocabSize());
        assertEquals(BYTE_LEVEL_BOS, byteLevel.bosId());
        assertEquals(Set.of(BYTE_LEVEL_EOS, BYTE_LEVEL_EOT), byteLevel.eosIds());
        assertTrue(byteLevel.addBosByDefault());
        assertEquals(BYTE_LEVEL_TOOL, byteLevel.tokenId("<tool>"));
        assertEquals(266, byteLevel.tokenId("Ġworld"));
    }

    @Test
    void byteLevelEncodesByMergeRank() {
        assertArrayEquals(new int[] {261, 266}, byteLevel.encode("hello world", false));
        assertArrayEquals(new int[] {BYTE_LEVEL_BOS, 261, 266}, byteLevel.encode("hello world", true));
        assertArrayEquals(new int[] {258}, byteLevel.encode(" the", false));
        assertArrayEquals(new int[] {'t', 257}, byteLevel.encode("the", false));
        // é is C3 A9, written "Ã©", which merge 11 joins
        assertArrayEquals(new int[] {'c', 'a', 'f', 267}, byteLevel.encode("café", false));
        assertArrayEquals(new int[] {0xF0, 0x9F, 0x98, 0x80}, byteLevel.encode("😀", false));
        // the regex keeps one space of a run apart: "a", " ", " b"
        assertArrayEquals(new int[] {'a', ' ', ' ', 'b'}, byteLevel.encode("a  b", false));
    }

    @Test
    void byteLevelEmptyText() {
        assertArrayEquals(new int[0], byteLevel.encode("", false));
        assertArrayEquals(new int[] {BYTE_LEVEL_BOS}, byteLevel.encode("", true));
        assertEquals("", byteLevel.decode(new int[0]));
        assertEquals("", byteLevel.decode(new int[] {BYTE_LEVEL_BOS, BYTE_LEVEL_EOS}));
    }

    @Test
    void byteLevelRecognisesAddedTokensInText() {
        assertArrayEquals(new int[] {261, BYTE_LEVEL_EOS}, byteLevel.encode("hello<|end_of_text|>", false));
        assertArrayEquals(new int[] {BYTE_LEVEL_TOOL, 261}, byteLevel.encode("<tool>hello", false));
    }

    @Test
    void byteLevelDecodesSkippingSpecialTokens() {
        assertEquals("hello world", byteLevel.decode(new int[] {BYTE_LEVEL_BOS, 261, 266, BYTE_LEVEL_EOS}));
        assertEquals(" the café", byteLevel.decode(new int[] {258, ' ', 'c', 'a', 'f', 267}));
        assertEquals("<tool> world", byteLevel.decode(new int[] {BYTE_LEVEL_TOOL, 266}));
        assertEquals(0, byteLevel.tokenBytes(BYTE_LEVEL_EOT).length);
    }

    @Test
    void byteLevelDecodeMatchesLibrary() {
        List<int[]> sequences = List.of(
                new int[] {BYTE_LEVEL_BOS, 261, 266, BYTE_LEVEL_EOS},
                new int[] {258, ' ', 'c', 'a', 'f', 267, ' ', 0xF0, 0x9F, 0x98, 0x80},
                new int[] {BYTE_LEVEL_TOOL, '\n', '\t', 266, BYTE_LEVEL_EOT},
                byteLevel.encode("Crème brûlée, naïve façade: 中文 and 🙂👍\n", true));
        for (int[] ids : sequences) {
            assertEquals(byteLevel.decodeWithLibrary(ids), byteLevel.decode(ids));
        }
    }

    @Test
    void byteLevelRoundTripsText() {
        String[] texts = {"hello world", "  leading and trailing  ", "tabs\tand\nnewlines\r\n",
                "Crème brûlée 中文 😀 ω", "<tool> hello <tool>"};
        for (String text : texts) {
            assertEquals(text, byteLevel.decode(byteLevel.encode(text, true)), text);
        }
        String corpus = TestData.corpusPrefix("gutenberg-nltk/austen-emma.txt", 3000);
        assertEquals(corpus, byteLevel.decode(byteLevel.encode(corpus, true)));
    }

    @Test
    void byteLevelNeverTruncates() {
        String text = "hello world" + " hello world".repeat(400);
        int[] ids = byteLevel.encode(text, false);
        assertEquals(2 + 3 * 400, ids.length);
        assertArrayEquals(new int[] {' ', 261, 266}, java.util.Arrays.copyOfRange(ids, ids.length - 3, ids.length));
    }

    @Test
    void byteTokensMapEveryByte() {
        for (int b = 0; b < 256; b++) {
            char c = HfFixtures.gpt2Char(b);
            assertEquals(c, ByteLevelAlphabet.charOf(b), "character of byte " + b);
            assertEquals(b, ByteLevelAlphabet.byteOf(c), "byte of U+" + Integer.toHexString(c));
            assertEquals(b, byteLevel.tokenId(String.valueOf(c)), "token id of byte " + b);
            assertArrayEquals(new byte[] {(byte) b}, byteLevel.tokenBytes(b), "bytes of token " + b);
        }
    }

    @Test
    void byteLevelAlphabetKnownCharacters() {
        assertEquals('Ġ', ByteLevelAlphabet.charOf(' '));
        assertEquals('Ċ', ByteLevelAlphabet.charOf('\n'));
        assertEquals('Ā', ByteLevelAlphabet.charOf(0));
        assertEquals('ġ', ByteLevelAlphabet.charOf(0x7F));
        assertEquals('\u0143', ByteLevelAlphabet.charOf(0xAD)); // Ń, the last of the 68
        assertEquals('A', ByteLevelAlphabet.charOf('A'));
        assertEquals(-1, ByteLevelAlphabet.byteOf('▁'));
    }

    @Test
    void byteLevelAlphabetRoundTripsAllBytes() {
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) {
            all[b] = (byte) b;
        }
        String encoded = ByteLevelAlphabet.encode(all);
        assertEquals(256, encoded.chars().distinct().count());
        assertArrayEquals(all, ByteLevelAlphabet.decode(encoded));
        // a token with a character outside the alphabet is taken as its own UTF-8, as the library does
        assertArrayEquals("<｜begin▁of▁sentence｜>".getBytes(StandardCharsets.UTF_8),
                ByteLevelAlphabet.decode("<｜begin▁of▁sentence｜>"));
    }

    @Test
    void byteLevelStreamsWholeCharacters() {
        int[] ids = byteLevel.encode("café 😀 中文!", true);
        StreamingDecoder decoder = byteLevel.newStreamingDecoder();
        StringBuilder streamed = new StringBuilder();
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            String chunk = decoder.push(id);
            assertFalse(chunk.contains("\uFFFD"), "chunk '" + chunk + "' of token " + id);
            chunks.add(chunk);
            streamed.append(chunk);
        }
        streamed.append(decoder.flush());
        assertEquals("café 😀 中文!", streamed.toString());
        assertEquals(byteLevel.decode(ids), streamed.toString());
        assertTrue(chunks.contains("😀"), chunks.toString());
    }

    @Test
    void bosFromPostProcessorWhenConfigIsSilent() throws IOException {
        try (HfJsonTokenizer tokenizer = HfJsonTokenizer.open(
                HfFixtures.writeByteLevel(folder.resolve("post-processor-bos"), null))) {
            assertTrue(tokenizer.addBosByDefault());
            // the post-processor is never run: BOS comes only from the addBos argument
            assertArrayEquals(new int[] {261}, tokenizer.encode("hello", false));
            assertArrayEquals(new int[] {BYTE_LEVEL_BOS, 261}, tokenizer.encode("hello", true));
        }
    }

    @Test
    void addBosTokenFalseIsHonoured() throws IOException {
        try (HfJsonTokenizer tokenizer = HfJsonTokenizer.open(
                HfFixtures.writeByteLevel(folder.resolve("no-bos"), false))) {
            assertFalse(tokenizer.addBosByDefault());
            assertEquals(BYTE_LEVEL_BOS, tokenizer.bosId());
        }
    }

    @Test
    void metaspaceEncodesWithByteFallback() {
        assertEquals(1, metaspace.bosId());
        assertEquals(Set.of(2), metaspace.eosIds());
        assertTrue(metaspace.addBosByDefault());
        assertArrayEquals(new int[] {1, 263, 263}, metaspace.encode("hi hi", true));
        // é has no piece: its bytes C3 A9 become <0xC3> <0xA9>
        assertArrayEquals(new int[] {259, 260, 3 + 0xC3, 3 + 0xA9}, metaspace.encode("hé", false));
    }

    @Test
    void metaspaceDecodesLikeLibraryAfterBos() {
        List<int[]> sequences = List.of(
                new int[] {1, 263, 263},
                new int[] {1, 259, 260, 3 + 0xC3, 3 + 0xA9, 2},
                new int[] {1, 263, 259, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD});
        for (int[] ids : sequences) {
            assertEquals(metaspace.decodeWithLibrary(ids), metaspace.decode(ids));
        }
        assertEquals("hi hi", metaspace.decode(new int[] {1, 263, 263}));
        assertEquals("hé", metaspace.decode(new int[] {1, 259, 260, 3 + 0xC3, 3 + 0xA9}));
    }

    @Test
    void metaspaceKeepsSpaceWithoutBos() {
        // the library strips the first space of any sequence; a continuation keeps it here
        assertEquals("hi", metaspace.decodeWithLibrary(new int[] {263}));
        assertEquals(" hi", metaspace.decode(new int[] {263}));
    }

    @Test
    void invalidIdsAreRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> byteLevel.decode(new int[] {261, 272}));
        assertTrue(error.getMessage().contains("token id 272 is out of range"), error.getMessage());
        assertTrue(error.getMessage().contains("ids 0 to 271"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> byteLevel.tokenBytes(-5));
        assertThrows(IllegalArgumentException.class, () -> metaspace.decodeWithLibrary(new int[] {264}));
    }

    @Test
    void missingTokenizerJsonIsReported() {
        CheckpointException error = assertThrows(CheckpointException.class,
                () -> HfJsonTokenizer.open(folder.resolve("absent")));
        assertTrue(error.getMessage().contains("tokenizer.json"), error.getMessage());
        assertTrue(error.getMessage().contains("does not exist"), error.getMessage());
    }

    @Test
    void unknownBosTokenIsReported() throws IOException {
        Path broken = HfFixtures.writeByteLevel(folder.resolve("unknown-bos"), true);
        Files.writeString(broken.resolve(HfJsonTokenizer.TOKENIZER_CONFIG_JSON), "{\"bos_token\": \"<s>\"}");
        CheckpointException error = assertThrows(CheckpointException.class, () -> HfJsonTokenizer.open(broken));
        assertTrue(error.getMessage().contains("bos_token"), error.getMessage());
        assertTrue(error.getMessage().contains("'<s>'"), error.getMessage());
    }

    @Test
    void openDispatchesOnFolderAndFile() throws IOException {
        Path dispatch = HfFixtures.writeByteLevel(folder.resolve("dispatch"), true);
        try (HfJsonTokenizer fromFolder = (HfJsonTokenizer) Tokenizers.open(dispatch);
             HfJsonTokenizer fromFile = (HfJsonTokenizer) Tokenizers.open(dispatch.resolve("tokenizer.json"))) {
            assertArrayEquals(new int[] {BYTE_LEVEL_BOS, 261, 266}, fromFolder.encode("hello world", true));
            assertArrayEquals(new int[] {BYTE_LEVEL_BOS, 261, 266}, fromFile.encode("hello world", true));
        }
    }
}
