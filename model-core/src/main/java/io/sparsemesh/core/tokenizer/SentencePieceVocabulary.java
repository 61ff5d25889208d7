package io.sparsemesh.core.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pieces of a SentencePiece BPE vocabulary with their scores and types, and the ids of its
 * BOS, EOS and unknown tokens. Pieces are stored as SentencePiece writes them, with U+2581
 * ({@code ▁}) for a space. Immutable.
 */
public final class SentencePieceVocabulary {

    /** SentencePiece's visible space, which stands for U+0020 inside pieces. */
    public static final char SPACE_SYMBOL = '\u2581';

    private static final Pattern BYTE_PIECE = Pattern.compile("<0x([0-9A-Fa-f]{2})>");

    private final String[] pieces;
    private final float[] scores;
    private final TokenType[] types;
    private final int bosId;
    private final int eosId;
    private final int unknownId;
    private final Map<String, Integer> idsByPiece;
    /** Id of the byte-fallback piece for each byte value, or -1 when the vocabulary has none. */
    private final int[] byteIds = new int[256];
    /** Byte value of each BYTE piece, or -1 for other pieces. */
    private final int[] byteValues;
    private final List<Integer> userDefinedIds;

    /**
     * Builds a vocabulary. {@code bosId}, {@code eosId} and {@code unknownId} may be -1 when the
     * vocabulary has no such token.
     *
     * @throws IllegalArgumentException when the arrays differ in length, a special id is out of
     *     range, a BYTE piece is not of the form {@code <0xXX>}, or a piece appears twice
     */
    public SentencePieceVocabulary(String[] pieces, float[] scores, TokenType[] types,
                                   int bosId, int eosId, int unknownId) {
        if (pieces.length != scores.length || pieces.length != types.length) {
            throw new IllegalArgumentException("a vocabulary needs one score and one type per piece, but it has "
                    + pieces.length + " pieces, " + scores.length + " scores and " + types.length + " types");
        }
        if (pieces.length == 0) {
            throw new IllegalArgumentException("a vocabulary needs at least one piece");
        }
        this.pieces = pieces.clone();
        this.scores = scores.clone();
        this.types = types.clone();
        this.bosId = checkSpecialId("BOS", bosId);
        this.eosId = checkSpecialId("EOS", eosId);
        this.unknownId = checkSpecialId("unknown", unknownId);

        this.idsByPiece = new HashMap<>(pieces.length * 2);
        this.byteValues = new int[pieces.length];
        Arrays.fill(byteIds, -1);
        List<Integer> userDefined = new ArrayList<>();
        for (int id = 0; id < pieces.length; id++) {
            Integer previous = idsByPiece.putIfAbsent(pieces[id], id);
            if (previous != null) {
                throw new IllegalArgumentException("piece '" + pieces[id] + "' appears twice, as ids "
                        + previous + " and " + id);
            }
            byteValues[id] = types[id] == TokenType.BYTE ? parseByte(id) : -1;
            if (byteValues[id] >= 0 && byteIds[byteValues[id]] < 0) {
                byteIds[byteValues[id]] = id;
            }
            if (types[id] == TokenType.USER_DEFINED) {
                userDefined.add(id);
            }
        }
        this.userDefinedIds = Collections.unmodifiableList(userDefined);
    }

    private int checkSpecialId(String name, int id) {
        if (id < -1 || id >= pieces.length) {
            throw new IllegalArgumentException(name + " id " + id + " is out of range for a vocabulary of "
                    + pieces.length + " pieces; use -1 when there is no " + name + " token");
        }
        return id;
    }

    private int parseByte(int id) {
        Matcher matcher = BYTE_PIECE.matcher(pieces[id]);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("piece " + id + " '" + pieces[id]
                    + "' has type BYTE but is not of the form <0xXX>");
        }
        return Integer.parseInt(matcher.group(1), 16);
    }

    /** Returns true when {@code piece} has the form of a byte-fallback piece, {@code <0xXX>}. */
    static boolean isBytePiece(String piece) {
        return BYTE_PIECE.matcher(piece).matches();
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[checkId(id)];
    }

    public float score(int id) {
        return scores[checkId(id)];
    }

    public TokenType type(int id) {
        return types[checkId(id)];
    }

    /** Returns the id of {@code piece}, or -1 when it is not in the vocabulary. */
    public int id(String piece) {
        return idsByPiece.getOrDefault(piece, -1);
    }

    /** Returns the id of the byte-fallback piece for {@code value} (0..255), or -1 when there is none. */
    public int byteId(int value) {
        return byteIds[value];
    }

    /** Returns the byte a BYTE piece stands for, or -1 when {@code id} is not a BYTE piece. */
    public int byteValue(int id) {
        return byteValues[checkId(id)];
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int unknownId() {
        return unknownId;
    }

    /** Ids of the USER_DEFINED pieces, in id order. */
    public List<Integer> userDefinedIds() {
        return userDefinedIds;
    }

    /**
     * Returns {@code id} when it is a valid token id.
     *
     * @throws IllegalArgumentException naming the id and the valid range otherwise
     */
    int checkId(int id) {
        return Decoding.checkId(id, pieces.length);
    }

    @Override
    public String toString() {
        return "SentencePieceVocabulary(" + pieces.length + " pieces, bos=" + bosId + ", eos=" + eosId
                + ", unk=" + unknownId + ")";
    }
}
