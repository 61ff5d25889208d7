package io.sparsemesh.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The Llama-2 SentencePiece BPE tokenizer (llama.cpp's "llama" vocabulary type, SPM), read from a
 * llama2.c {@code tok*.bin}, a SentencePiece {@code tokenizer.model} or GGUF metadata.
 *
 * <p>Encoding follows llama.cpp's {@code llama_vocab::impl::tokenize} for SPM with special-token
 * parsing off: the text is split around USER_DEFINED pieces, which are emitted whole; each other
 * fragment gets a leading space when it is first or follows such a piece (the dummy prefix), has
 * its spaces replaced by {@code ▁} and goes through {@link SentencePieceBpe}. Text that looks
 * like a control token, such as {@code "<s>"}, is encoded as plain characters. Only when the
 * options ask for {@code remove_extra_whitespaces}, as a {@code tokenizer.model} may, are spaces
 * first trimmed and collapsed, as SentencePiece does; llama.cpp and llama2.c never do, so the
 * same vocabulary read from GGUF or {@code tok*.bin} keeps runs of spaces.
 *
 * <p>Decoding follows llama.cpp's {@code token_to_piece}: {@code ▁} becomes a space, byte pieces
 * become their byte, USER_DEFINED pieces are copied as they are, and CONTROL, UNKNOWN, UNUSED and
 * UNDEFINED pieces produce nothing. The leading space of the piece right after BOS is dropped, as
 * llama2.c does and as SentencePiece does for a sequence that starts with BOS. Unlike
 * SentencePiece, a leading space is kept when the ids do not start with BOS, so the decoded
 * continuation of a prompt keeps the space before its first word.
 */
public final class SentencePieceTokenizer implements Tokenizer {

    private static final byte[] EMPTY = new byte[0];

    private final SentencePieceVocabulary vocabulary;
    private final SentencePieceOptions options;
    private final SentencePieceBpe bpe;
    /** Bytes each token decodes to, computed once: decoding is per generated token. */
    private final byte[][] tokenBytes;

    public SentencePieceTokenizer(SentencePieceVocabulary vocabulary, SentencePieceOptions options) {
        this.vocabulary = vocabulary;
        this.options = options;
        this.bpe = new SentencePieceBpe(vocabulary);
        this.tokenBytes = new byte[vocabulary.size()][];
        for (int id = 0; id < tokenBytes.length; id++) {
            tokenBytes[id] = pieceBytes(id);
        }
    }

    private byte[] pieceBytes(int id) {
        String piece = vocabulary.piece(id);
        return switch (vocabulary.type(id)) {
            case NORMAL -> piece.replace(SentencePieceVocabulary.SPACE_SYMBOL, ' ').getBytes(StandardCharsets.UTF_8);
            case BYTE -> new byte[] {(byte) vocabulary.byteValue(id)};
            case USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
            case CONTROL, UNKNOWN, UNUSED, UNDEFINED -> EMPTY;
        };
    }

    public SentencePieceVocabulary vocabulary() {
        return vocabulary;
    }

    public SentencePieceOptions options() {
        return options;
    }

    @Override
    public int vocabSize() {
        return vocabulary.size();
    }

    @Override
    public int bosId() {
        return vocabulary.bosId();
    }

    @Override
    public Set<Integer> eosIds() {
        return vocabulary.eosId() >= 0 ? Set.of(vocabulary.eosId()) : Set.of();
    }

    @Override
    public boolean addBosByDefault() {
        return options.addBos() && vocabulary.bosId() >= 0;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList ids = new IntList();
        if (addBos && vocabulary.bosId() >= 0) {
            ids.add(vocabulary.bosId());
        }
        String normalized = options.removeExtraWhitespaces() ? removeExtraWhitespaces(text) : text;

        boolean previousIsSpecial = true;
        for (Fragment fragment : splitAtUserDefinedPieces(normalized)) {
            if (fragment.id() >= 0) {
                ids.add(fragment.id());
                previousIsSpecial = true;
                continue;
            }
            String fragmentText = options.addDummyPrefix() && previousIsSpecial ? " " + fragment.text() : fragment.text();
            bpe.encode(fragmentText.replace(' ', SentencePieceVocabulary.SPACE_SYMBOL), ids);
            previousIsSpecial = false;
        }
        return ids.toArray();
    }

    /** A piece of input text, or a USER_DEFINED piece found in it ({@code id >= 0}). */
    private record Fragment(String text, int id) {
    }

    /**
     * Splits {@code text} around occurrences of USER_DEFINED pieces, taking the pieces in id order
     * and each piece's occurrences from left to right, as llama.cpp's {@code tokenizer_st_partition} does.
     */
    private List<Fragment> splitAtUserDefinedPieces(String text) {
        List<Fragment> fragments = new ArrayList<>();
        if (!text.isEmpty()) {
            fragments.add(new Fragment(text, -1));
        }
        for (int id : vocabulary.userDefinedIds()) {
            String piece = vocabulary.piece(id);
            if (piece.isEmpty()) {
                continue;
            }
            List<Fragment> split = new ArrayList<>(fragments.size());
            for (Fragment fragment : fragments) {
                if (fragment.id() >= 0) {
                    split.add(fragment);
                    continue;
                }
                String rest = fragment.text();
                for (int match = rest.indexOf(piece); match >= 0; match = rest.indexOf(piece)) {
                    if (match > 0) {
                        split.add(new Fragment(rest.substring(0, match), -1));
                    }
                    split.add(new Fragment(piece, id));
                    rest = rest.substring(match + piece.length());
                }
                if (!rest.isEmpty()) {
                    split.add(new Fragment(rest, -1));
                }
            }
            fragments = split;
        }
        return fragments;
    }

    /** SentencePiece's {@code remove_extra_whitespaces}: trims spaces (U+0020) and collapses runs of them. */
    static String removeExtraWhitespaces(String text) {
        StringBuilder result = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                pendingSpace = !result.isEmpty();
                continue;
            }
            if (pendingSpace) {
                result.append(' ');
                pendingSpace = false;
            }
            result.append(c);
        }
        return result.toString();
    }

    @Override
    public String decode(int[] ids) {
        return Decoding.concatenateTokenBytes(this, ids);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenBytes[vocabulary.checkId(id)].clone();
    }

    @Override
    public byte[] tokenBytesAfter(int previousId, int id) {
        byte[] bytes = tokenBytes[vocabulary.checkId(id)];
        boolean dropLeadingSpace = previousId >= 0 && previousId == vocabulary.bosId()
                && (options.addDummyPrefix() || options.removeExtraWhitespaces())
                && vocabulary.type(id) == TokenType.NORMAL
                && bytes.length > 0 && bytes[0] == ' ';
        return dropLeadingSpace ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes.clone();
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer(" + vocabulary + ", " + options + ")";
    }
}
