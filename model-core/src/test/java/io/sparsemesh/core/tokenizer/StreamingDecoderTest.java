package io.sparsemesh.core.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incremental decoding with stories260K, whose 512 pieces cover almost no non-ASCII character:
 * accented letters, Chinese and emoji arrive as 2 to 4 byte-fallback tokens each.
 */
class StreamingDecoderTest {

    private static final String MULTI_BYTE_TEXT = "Crème brûlée, naïve café. 中文 and 日本語! 😀🙂👍 Ω≈ç";

    private static List<SentencePieceTokenizer> tokenizers;

    @BeforeAll
    static void open() {
        tokenizers = List.of(
                Tokenizers.openLlama2c(TestData.stories("tok512.bin")),
                Tokenizers.openSentencePiece(TestData.stories("tok512.model")),
                Tokenizers.openGguf(TestData.stories("stories260K.gguf")));
    }

    /** Pushes every id, then flushes; returns the chunks, the flushed rest last. */
    private static List<String> stream(Tokenizer tokenizer, int[] ids) {
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            chunks.add(decoder.push(id));
        }
        chunks.add(decoder.flush());
        return chunks;
    }

    @Test
    void chunksNeverSplitCharacters() {
        for (SentencePieceTokenizer tokenizer : tokenizers) {
            int[] ids = tokenizer.encode(MULTI_BYTE_TEXT, true);
            List<String> chunks = stream(tokenizer, ids);
            for (String chunk : chunks) {
                assertFalse(chunk.contains("\uFFFD"), "chunk '" + chunk + "' in " + chunks);
            }
            assertEquals(MULTI_BYTE_TEXT, String.join("", chunks));
            assertEquals(tokenizer.decode(ids), String.join("", chunks));
        }
    }

    @Test
    void bytesAreHeldUntilCharacterCompletes() {
        SentencePieceTokenizer tokenizer = tokenizers.getFirst();
        // "▁" then F0 9F 98 80 (😀) as four byte-fallback tokens
        int[] ids = tokenizer.encode("😀", false);
        assertEquals(5, ids.length);
        List<String> chunks = stream(tokenizer, ids);
        assertEquals(List.of(" ", "", "", "", "😀", ""), chunks);
    }

    @Test
    void everyCharacterArrivesWhole() {
        SentencePieceTokenizer tokenizer = tokenizers.getFirst();
        int[] ids = tokenizer.encode(MULTI_BYTE_TEXT, true);
        List<String> chunks = stream(tokenizer, ids);
        for (String expected : List.of("è", "û", "é", "ï", "中", "文", "日", "本", "語", "😀", "🙂", "👍", "Ω", "≈", "ç")) {
            assertTrue(chunks.contains(expected), "no chunk is exactly '" + expected + "': " + chunks);
        }
    }

    @Test
    void firstPieceAfterBosDropsSpace() {
        for (SentencePieceTokenizer tokenizer : tokenizers) {
            List<String> chunks = stream(tokenizer, tokenizer.encode("Once upon a time", true));
            assertEquals(List.of("", "Once", " upon", " a", " time", ""), chunks);
        }
    }

    @Test
    void continuationKeepsItsSpaces() {
        for (SentencePieceTokenizer tokenizer : tokenizers) {
            List<String> chunks = stream(tokenizer, Stories260kTokenizerTest.CONTINUATION);
            assertEquals(Stories260kTokenizerTest.CONTINUATION_TEXT, String.join("", chunks));
            assertEquals(" there", chunks.get(1));
        }
    }

    @Test
    void corpusStreamsLikeDecode() {
        SentencePieceTokenizer tokenizer = tokenizers.getFirst();
        for (String text : Stories260kTokenizerTest.corpusSamples()) {
            int[] ids = tokenizer.encode(text, true);
            assertEquals(text, String.join("", stream(tokenizer, ids)));
        }
    }

    @Test
    void flushReplacesIncompleteCharacter() {
        SentencePieceTokenizer tokenizer = tokenizers.getFirst();
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        assertEquals("", decoder.push(3 + 0xE4));
        assertEquals("", decoder.push(3 + 0xB8));
        assertEquals("\uFFFD", decoder.flush());
        assertEquals("", decoder.flush());
    }
}
