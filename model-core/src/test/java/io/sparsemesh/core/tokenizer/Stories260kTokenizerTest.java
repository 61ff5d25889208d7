package io.sparsemesh.core.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stories260K tokenizer (512 SentencePiece BPE pieces) read from its three sources: llama2.c's
 * tok512.bin, SentencePiece's tok512.model and the GGUF metadata of stories260K.gguf.
 */
class Stories260kTokenizerTest {

    /**
     * Encodings with BOS produced by SentencePiece 0.1.97 (Debian's python3-sentencepiece) from
     * tok512.model. The first four also appear in public llama2.c ports' tests.
     */
    private static final Map<String, int[]> SENTENCEPIECE_ENCODINGS = Map.ofEntries(
            Map.entry("Once upon a time", new int[] {1, 403, 407, 261, 378}),
            Map.entry("Once upon a time, there was a little dragon",
                    new int[] {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 279, 420, 412, 428, 289}),
            Map.entry("There is a house on a hill. They call it rising sun",
                    new int[] {1, 291, 276, 410, 293, 261, 270, 277, 372, 353, 261, 270, 290, 421, 426, 342, 280,
                            388, 312, 352, 293, 299, 262, 379}),
            Map.entry("Zoo", new int[] {1, 410, 469, 347}),
            Map.entry("Lily's cat, Tom, was 3 years old!",
                    new int[] {1, 317, 439, 419, 280, 294, 432, 274, 287, 432, 286, 410, 472, 348, 411, 295, 419,
                            334, 341, 443}),
            Map.entry("Hello\nworld\ttab", new int[] {1, 346, 306, 414, 13, 424, 304, 341, 12, 413, 412, 430}),
            Map.entry("a\n\nb", new int[] {1, 261, 13, 13, 430}),
            Map.entry("\t tab", new int[] {1, 410, 12, 259, 412, 430}),
            Map.entry("Crème brûlée 中文 😀",
                    new int[] {1, 410, 457, 420, 198, 171, 423, 411, 268, 420, 198, 190, 421, 485, 411, 410, 231,
                            187, 176, 233, 153, 138, 410, 243, 162, 155, 131}),
            Map.entry("naïve façade, déjà vu",
                    new int[] {1, 297, 412, 198, 178, 360, 272, 412, 198, 170, 380, 411, 432, 279, 485, 449, 198,
                            163, 410, 435, 425}),
            Map.entry("日本語", new int[] {1, 410, 233, 154, 168, 233, 159, 175, 235, 173, 161}),
            Map.entry("🙂👍", new int[] {1, 410, 243, 162, 156, 133, 243, 162, 148, 144}));

    /** Greedy continuation of "Once upon a time" by stories260K, and its text. */
    static final int[] CONTINUATION = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337};
    static final String CONTINUATION_TEXT = ", there was a little girl named Lily. She loved to play";

    private static SentencePieceTokenizer fromBin;
    private static SentencePieceTokenizer fromModel;
    private static SentencePieceTokenizer fromGguf;

    @BeforeAll
    static void open() {
        fromBin = Tokenizers.openLlama2c(TestData.stories("tok512.bin"));
        fromModel = Tokenizers.openSentencePiece(TestData.stories("tok512.model"));
        fromGguf = Tokenizers.openGguf(TestData.stories("stories260K.gguf"));
    }

    private static List<SentencePieceTokenizer> sources() {
        return List.of(fromBin, fromModel, fromGguf);
    }

    @Test
    void threeSourcesHaveSameVocabulary() {
        SentencePieceVocabulary expected = fromModel.vocabulary();
        for (SentencePieceTokenizer tokenizer : List.of(fromBin, fromGguf)) {
            SentencePieceVocabulary actual = tokenizer.vocabulary();
            assertEquals(512, actual.size());
            for (int id = 0; id < expected.size(); id++) {
                assertEquals(expected.piece(id), actual.piece(id), "piece " + id);
                assertEquals(expected.score(id), actual.score(id), "score of piece " + id);
                assertEquals(expected.type(id), actual.type(id), "type of piece " + id);
            }
            assertEquals(1, actual.bosId());
            assertEquals(2, actual.eosId());
            assertEquals(0, actual.unknownId());
        }
    }

    @Test
    void vocabularyHasByteAndControlTypes() {
        SentencePieceVocabulary vocabulary = fromBin.vocabulary();
        assertEquals(TokenType.UNKNOWN, vocabulary.type(0));
        assertEquals(TokenType.CONTROL, vocabulary.type(1));
        assertEquals(TokenType.CONTROL, vocabulary.type(2));
        for (int value = 0; value < 256; value++) {
            assertEquals(3 + value, vocabulary.byteId(value), "byte piece of 0x" + Integer.toHexString(value));
            assertEquals(TokenType.BYTE, vocabulary.type(3 + value));
            assertEquals(value, vocabulary.byteValue(3 + value));
        }
        assertEquals("▁t", vocabulary.piece(259));
        assertEquals(TokenType.NORMAL, vocabulary.type(259));
    }

    @Test
    void optionsFollowEachSource() {
        assertEquals(SentencePieceOptions.LLAMA, fromBin.options());
        assertEquals(SentencePieceOptions.LLAMA, fromGguf.options());
        // tok512.model's normalizer_spec sets remove_extra_whitespaces, which llama.cpp ignores
        assertEquals(new SentencePieceOptions(true, true, true), fromModel.options());
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertTrue(tokenizer.addBosByDefault(), tokenizer.toString());
            assertEquals(java.util.Set.of(2), tokenizer.eosIds());
        }
    }

    @Test
    void encodingsMatchSentencePiece() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            SENTENCEPIECE_ENCODINGS.forEach((text, expected) ->
                    assertArrayEquals(expected, tokenizer.encode(text, true), tokenizer + " on '" + text + "'"));
        }
    }

    @Test
    void encodingWithoutBosOmitsOnlyBos() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertArrayEquals(new int[] {403, 407, 261, 378}, tokenizer.encode("Once upon a time", false));
        }
    }

    @Test
    void continuationDecodesToReferenceText() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertEquals(CONTINUATION_TEXT, tokenizer.decode(CONTINUATION), tokenizer.toString());
        }
    }

    @Test
    void promptAndContinuationDecodeTogether() {
        int[] prompt = fromBin.encode("Once upon a time", true);
        int[] sequence = Arrays.copyOf(prompt, prompt.length + CONTINUATION.length);
        System.arraycopy(CONTINUATION, 0, sequence, prompt.length, CONTINUATION.length);
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertEquals("Once upon a time" + CONTINUATION_TEXT, tokenizer.decode(sequence));
        }
    }

    @Test
    void spaceAfterBosIsDroppedButNotElsewhere() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertEquals("there", tokenizer.decode(new int[] {1, 383}));
            assertEquals(" there", tokenizer.decode(new int[] {383}));
            assertEquals("a there", tokenizer.decode(new int[] {1, 261, 383}));
            assertEquals(" there", tokenizer.decode(new int[] {2, 383}));
        }
    }

    @Test
    void emptyText() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            assertArrayEquals(new int[] {1}, tokenizer.encode("", true));
            assertArrayEquals(new int[0], tokenizer.encode("", false));
            assertEquals("", tokenizer.decode(new int[0]));
            assertEquals("", tokenizer.decode(new int[] {1}));
            assertEquals("", tokenizer.decode(new int[] {1, 2}));
        }
    }

    @Test
    void specialTokensDecodeToNothing() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            for (int id : new int[] {0, 1, 2}) {
                assertEquals(0, tokenizer.tokenBytes(id).length, "token " + id);
            }
            assertEquals("Once", tokenizer.decode(new int[] {1, 403, 2}));
        }
    }

    @Test
    void controlTokenTextIsEncodedAsCharacters() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            int[] ids = tokenizer.encode("<s>", false);
            assertTrue(Arrays.stream(ids).noneMatch(id -> id == 1), Arrays.toString(ids));
            assertEquals(" <s>", tokenizer.decode(ids));
        }
    }

    @Test
    void whitespaceRunsRoundTripWithLlamaOptions() {
        String[] texts = {" ", "  ", "a  b", "  a   b  ", " leading", "trailing ", "\n \n", "tab\t\tand  space"};
        for (SentencePieceTokenizer tokenizer : List.of(fromBin, fromGguf)) {
            for (String text : texts) {
                int[] ids = tokenizer.encode(text, true);
                assertEquals(text, tokenizer.decode(ids), "'" + text + "' as " + Arrays.toString(ids));
            }
            assertNotEquals(tokenizer.encode("a b", true).length, tokenizer.encode("a  b", true).length);
        }
    }

    @Test
    void whitespaceRunsCollapseWithSentencePieceOptions() {
        // SentencePiece itself encodes "  a   b  " as [▁a, ▁b] and " " as nothing
        assertArrayEquals(new int[] {1, 261, 268}, fromModel.encode("  a   b  ", true));
        assertArrayEquals(new int[] {1}, fromModel.encode(" ", true));
        assertEquals("a b", fromModel.decode(fromModel.encode("  a   b  ", true)));
        assertEquals("a \nb", fromModel.decode(fromModel.encode(" a \nb ", true)));
    }

    @Test
    void removeExtraWhitespacesTrimsAndCollapsesSpaces() {
        assertEquals("", SentencePieceTokenizer.removeExtraWhitespaces("   "));
        assertEquals("a b", SentencePieceTokenizer.removeExtraWhitespaces("  a   b  "));
        assertEquals("a\t\tb", SentencePieceTokenizer.removeExtraWhitespaces("a\t\tb"));
        assertEquals("a \n b", SentencePieceTokenizer.removeExtraWhitespaces("a  \n  b"));
    }

    @Test
    void charactersOutsideVocabularyUseByteFallback() {
        int[] ids = fromBin.encode("中", false);
        // "▁" then the UTF-8 bytes E4 B8 AD as byte pieces (id = 3 + byte)
        assertArrayEquals(new int[] {410, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD}, ids);
        assertArrayEquals(new byte[] {(byte) 0xE4}, fromBin.tokenBytes(3 + 0xE4));
        assertEquals("中", fromBin.decode(new int[] {1, 410, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD}).strip());
    }

    @Test
    void invalidIdsAreRejected() {
        for (SentencePieceTokenizer tokenizer : sources()) {
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                    () -> tokenizer.decode(new int[] {1, 512}));
            assertTrue(tooLarge.getMessage().contains("token id 512 is out of range"), tooLarge.getMessage());
            assertTrue(tooLarge.getMessage().contains("ids 0 to 511"), tooLarge.getMessage());

            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> tokenizer.tokenBytes(-1));
            assertTrue(negative.getMessage().contains("token id -1"), negative.getMessage());

            assertThrows(IllegalArgumentException.class, () -> tokenizer.tokenBytesAfter(1, 100_000));
        }
    }

    @Test
    void corpusRoundTrips() {
        for (String text : corpusSamples()) {
            for (SentencePieceTokenizer tokenizer : List.of(fromBin, fromGguf)) {
                assertEquals(text, tokenizer.decode(tokenizer.encode(text, true)));
            }
            // SentencePiece's normalizer collapses runs of spaces (Austen has two after a full stop)
            String normalized = SentencePieceTokenizer.removeExtraWhitespaces(text);
            assertEquals(normalized, fromModel.decode(fromModel.encode(text, true)));
        }
    }

    @Test
    void corpusUsesByteFallback() {
        int bytePieces = 0;
        for (String text : corpusSamples()) {
            for (int id : fromBin.encode(text, true)) {
                if (fromBin.vocabulary().type(id) == TokenType.BYTE) {
                    bytePieces++;
                }
            }
        }
        assertTrue(bytePieces > 100, "byte-fallback tokens in the corpus samples: " + bytePieces);
    }

    @Test
    void threeSourcesAgreeOnCorpus() {
        for (String text : corpusSamples()) {
            int[] expected = fromBin.encode(text, true);
            assertArrayEquals(expected, fromGguf.encode(text, true));
            assertArrayEquals(fromBin.encode(SentencePieceTokenizer.removeExtraWhitespaces(text), true),
                    fromModel.encode(text, true));
        }
    }

    @Test
    void queueEncoderMatchesPairwiseRescan() {
        List<String> texts = new ArrayList<>();
        for (String sample : corpusSamples()) {
            texts.addAll(Arrays.asList(sample.split("\n")));
        }
        texts.addAll(SENTENCEPIECE_ENCODINGS.keySet());
        SentencePieceVocabulary vocabulary = fromBin.vocabulary();
        for (String text : texts) {
            int[] expected = PairwiseRescanEncoder.encode(vocabulary, text);
            assertArrayEquals(expected, fromBin.encode(text, false), "'" + text + "'");
        }
    }

    static List<String> corpusSamples() {
        return List.of(
                TestData.corpusPrefix("tinyshakespeare/input.txt", 3000),
                TestData.corpusPrefix("gutenberg-nltk/austen-emma.txt", 3000),
                TestData.corpusPrefix("gutenberg-nltk/austen-persuasion.txt", 2000));
    }
}
