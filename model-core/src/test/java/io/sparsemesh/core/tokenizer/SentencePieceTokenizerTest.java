package io.sparsemesh.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Merge order, special pieces and vocabulary checks on small vocabularies written for each case. */
class SentencePieceTokenizerTest {

    private static final SentencePieceOptions PLAIN = new SentencePieceOptions(false, false, false);

    /** Builds a vocabulary of {@code <unk>}, {@code <s>}, {@code </s>} then {@code pieces} with their scores. */
    private static SentencePieceVocabulary vocabulary(boolean withUnknown, Object... piecesAndScores) {
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<TokenType> types = new ArrayList<>(List.of(TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL));
        for (int i = 0; i < piecesAndScores.length; i += 2) {
            String piece = (String) piecesAndScores[i];
            pieces.add(piece);
            scores.add(((Number) piecesAndScores[i + 1]).floatValue());
            types.add(piece.equals("<tool>") ? TokenType.USER_DEFINED : TokenType.NORMAL);
        }
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        return new SentencePieceVocabulary(pieces.toArray(String[]::new), scoreArray, types.toArray(TokenType[]::new),
                1, 2, withUnknown ? 0 : -1);
    }

    private static String[] pieces(SentencePieceTokenizer tokenizer, int[] ids) {
        String[] pieces = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            pieces[i] = tokenizer.vocabulary().piece(ids[i]);
        }
        return pieces;
    }

    @Test
    void equalScoresMergeLeftmostFirst() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(
                vocabulary(true, "a", -5, "b", -5, "ab", -1, "ba", -1), PLAIN);
        assertArrayEquals(new String[] {"ab", "a"}, pieces(tokenizer, tokenizer.encode("aba", false)));
        assertArrayEquals(new String[] {"ba", "b"}, pieces(tokenizer, tokenizer.encode("bab", false)));
    }

    @Test
    void higherScoreMergesFirst() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(
                vocabulary(true, "a", -5, "b", -5, "ab", -1, "ba", 0), PLAIN);
        assertArrayEquals(new String[] {"a", "ba"}, pieces(tokenizer, tokenizer.encode("aba", false)));
    }

    @Test
    void mergesBuildOnEarlierMerges() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(
                vocabulary(true, "a", -5, "aa", -1, "aaaa", -2), PLAIN);
        assertArrayEquals(new String[] {"aaaa"}, pieces(tokenizer, tokenizer.encode("aaaa", false)));
        assertArrayEquals(new String[] {"aaaa", "a"}, pieces(tokenizer, tokenizer.encode("aaaaa", false)));
        assertArrayEquals(new String[] {"aaaa", "aa"}, pieces(tokenizer, tokenizer.encode("aaaaaa", false)));
    }

    @Test
    void dummyPrefixAndSpaceSymbol() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(
                vocabulary(true, "▁", -9, "a", -5, "b", -5, "▁a", -1, "▁b", -2), SentencePieceOptions.LLAMA);
        assertArrayEquals(new String[] {"<s>", "▁a", "▁b"}, pieces(tokenizer, tokenizer.encode("a b", true)));
        assertArrayEquals(new String[] {"▁", "▁a"}, pieces(tokenizer, tokenizer.encode(" a", false)));
        assertEquals(" a", tokenizer.decode(tokenizer.encode(" a", true)));
    }

    @Test
    void userDefinedPiecesStayWhole() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(
                vocabulary(true, "▁", -9, "x", -5, "y", -5, "▁x", -1, "▁y", -2, "<tool>", 0),
                SentencePieceOptions.LLAMA);
        int[] ids = tokenizer.encode("x<tool>y", true);
        // as in llama.cpp, the text after a user-defined piece gets the dummy prefix again
        assertArrayEquals(new String[] {"<s>", "▁x", "<tool>", "▁y"}, pieces(tokenizer, ids));
        assertEquals("x<tool> y", tokenizer.decode(ids));
        assertArrayEquals(new String[] {"<tool>", "<tool>"}, pieces(tokenizer, tokenizer.encode("<tool><tool>", false)));
    }

    @Test
    void unknownCharacterWithoutBytePieces() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(vocabulary(true, "a", -1), PLAIN);
        assertArrayEquals(new int[] {3, 0, 3}, tokenizer.encode("aéa", false));
        // a run of unknown characters becomes one unknown token, as in SentencePiece
        assertArrayEquals(new int[] {3, 0, 3}, tokenizer.encode("a中😀a", false));
        assertArrayEquals(new int[] {0, 3, 0}, tokenizer.encode("éaé", false));
        assertEquals("aa", tokenizer.decode(new int[] {3, 0, 3}));
    }

    @Test
    void unknownCharacterWithoutUnknownToken() {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(vocabulary(false, "a", -1), PLAIN);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.encode("aé", false));
        assertTrue(error.getMessage().contains("'é' (U+E9)"), error.getMessage());
    }

    @Test
    void vocabularyRejectsInconsistentArrays() {
        String[] pieces = {"<unk>", "a"};
        TokenType[] types = {TokenType.UNKNOWN, TokenType.NORMAL};
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> new SentencePieceVocabulary(pieces, new float[1], types, -1, -1, 0));
        assertTrue(lengths.getMessage().contains("2 pieces, 1 scores and 2 types"), lengths.getMessage());

        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
                () -> new SentencePieceVocabulary(new String[] {"a", "a"}, new float[2], types, -1, -1, -1));
        assertTrue(duplicate.getMessage().contains("piece 'a' appears twice"), duplicate.getMessage());

        IllegalArgumentException bytePiece = assertThrows(IllegalArgumentException.class,
                () -> new SentencePieceVocabulary(new String[] {"<unk>", "<0xG1>"}, new float[2],
                        new TokenType[] {TokenType.UNKNOWN, TokenType.BYTE}, -1, -1, 0));
        assertTrue(bytePiece.getMessage().contains("'<0xG1>' has type BYTE"), bytePiece.getMessage());

        IllegalArgumentException bos = assertThrows(IllegalArgumentException.class,
                () -> new SentencePieceVocabulary(pieces, new float[2], types, 2, -1, 0));
        assertTrue(bos.getMessage().contains("BOS id 2 is out of range"), bos.getMessage());
    }

    @Test
    void tokenTypeCodes() {
        for (TokenType type : TokenType.values()) {
            assertEquals(type, TokenType.fromCode(type.code()));
        }
        assertEquals(TokenType.BYTE, TokenType.fromCode(6));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> TokenType.fromCode(7));
        assertTrue(error.getMessage().contains("unknown token type code 7"), error.getMessage());
    }
}
