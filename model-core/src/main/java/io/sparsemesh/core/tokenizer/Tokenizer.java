package io.sparsemesh.core.tokenizer;

import java.util.Set;

/** Turns text into token ids and back. Implementations are immutable and safe to share between threads. */
public interface Tokenizer {

    int vocabSize();

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bosId();

    /** Ids that end a sequence. */
    Set<Integer> eosIds();

    /** Encodes {@code text}, adding the BOS id first when {@code addBos} is true and the vocabulary has one. */
    int[] encode(String text, boolean addBos);

    /** Decodes {@code ids} to text; special tokens such as BOS and EOS produce no text. */
    String decode(int[] ids);

    /** The raw bytes token {@code id} stands for, before UTF-8 decoding (empty for special tokens). */
    byte[] tokenBytes(int id);

    /**
     * Starts an incremental decoder for one sequence: it returns text as tokens arrive and never
     * splits a UTF-8 character across two chunks.
     */
    default StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }
}
