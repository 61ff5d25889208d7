package io.sparsemesh.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * SentencePiece's score-driven BPE over one fragment of text, as llama.cpp's
 * {@code llm_tokenizer_spm_session} does it.
 *
 * <p>The text is split into Unicode characters, each a symbol in a doubly linked list. Every
 * adjacent pair whose concatenation is a vocabulary piece goes into a priority queue ordered by
 * that piece's score, highest first, and on equal scores by position, leftmost first. The best
 * pair is merged, the pairs it forms with its new neighbours are queued, and queued pairs that a
 * merge has made stale are skipped, until the queue is empty. Each remaining symbol becomes its
 * piece's id; a character with no piece becomes its UTF-8 bytes as byte-fallback tokens.
 *
 * <p>llama2.c's {@code encode} instead rescans all adjacent pairs for the best score after every
 * merge, taking the leftmost on ties. Both pick the same pair at every step, so they give the same
 * ids; the queue does it in O(n log n) rather than O(n²). llama2.c also replaces characters that
 * have no piece by byte tokens before merging rather than after. That gives the same ids for
 * vocabularies trained by SentencePiece, where every piece is built from characters that have
 * pieces of their own.
 */
final class SentencePieceBpe {

    /** Orders pairs by score, highest first, then by the position of their left symbol. */
    private static final Comparator<Bigram> BEST_FIRST =
            Comparator.comparingDouble(Bigram::score).reversed().thenComparingInt(Bigram::left);

    private final SentencePieceVocabulary vocabulary;

    SentencePieceBpe(SentencePieceVocabulary vocabulary) {
        this.vocabulary = vocabulary;
    }

    /** A queued merge candidate: symbols {@code left} and {@code right} whose text has {@code length} chars. */
    private record Bigram(int left, int right, float score, int length) {
    }

    /** Appends the ids of {@code text} (spaces already written as ▁) to {@code out}. */
    void encode(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }

        // split into characters: symbol i covers text[start[i], start[i] + length[i])
        int capacity = text.length();
        int[] start = new int[capacity];
        int[] length = new int[capacity];
        int[] prev = new int[capacity];
        int[] next = new int[capacity];
        int count = 0;
        for (int offset = 0; offset < text.length(); count++) {
            int chars = Character.charCount(text.codePointAt(offset));
            start[count] = offset;
            length[count] = chars;
            prev[count] = count - 1;
            offset += chars;
            next[count] = offset == text.length() ? -1 : count + 1;
        }

        // seed the queue with every adjacent pair that forms a piece
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, count), BEST_FIRST);
        for (int i = 1; i < count; i++) {
            tryAddBigram(text, start, length, i - 1, i, queue);
        }

        // merge the best pair until no pair forms a piece
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left();
            int right = bigram.right();
            boolean stale = length[left] == 0 || length[right] == 0
                    || length[left] + length[right] != bigram.length();
            if (stale) {
                continue;
            }

            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }

            tryAddBigram(text, start, length, prev[left], left, queue);
            tryAddBigram(text, start, length, left, next[left], queue);
        }

        // emit pieces, with byte fallback for characters that have none
        boolean previousIsUnknown = false;
        for (int i = 0; i >= 0; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocabulary.id(symbol);
            if (id >= 0) {
                out.add(id);
                previousIsUnknown = false;
            } else if (addBytePieces(symbol, out)) {
                previousIsUnknown = false;
            } else if (!previousIsUnknown) {
                out.add(unknownId(symbol));
                previousIsUnknown = true;
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] length, int left, int right,
                              PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        int merged = length[left] + length[right];
        int id = vocabulary.id(text.substring(start[left], start[left] + merged));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocabulary.score(id), merged));
        }
    }

    /**
     * Appends one byte-fallback token per UTF-8 byte of {@code symbol} and returns true, or returns
     * false without appending when the vocabulary lacks one of those byte pieces.
     * NOTE: an unpaired surrogate has no UTF-8 form, and Java encodes it as '?'.
     */
    private boolean addBytePieces(String symbol, IntList out) {
        byte[] bytes = symbol.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = vocabulary.byteId(bytes[i] & 0xFF);
            if (ids[i] < 0) {
                return false;
            }
        }
        for (int id : ids) {
            out.add(id);
        }
        return true;
    }

    /**
     * Returns the unknown id for a character without a piece. The caller emits it once for a run
     * of such characters, as SentencePiece does without byte fallback.
     */
    private int unknownId(String symbol) {
        if (vocabulary.unknownId() < 0) {
            throw new IllegalArgumentException("character '" + symbol + "' (U+"
                    + Integer.toHexString(symbol.codePointAt(0)).toUpperCase()
                    + ") is not in the vocabulary, which has neither byte-fallback pieces nor an unknown token");
        }
        return vocabulary.unknownId();
    }
}
