package io.sparsemesh.core.tokenizer;

import java.util.Set;

/** Turns text into token ids and back. Implementations are immutable and safe to share between threads. */
public interface Tokenizer {

    int vocabSize();

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bosId();

    /** Ids that end a sequence. */
    Set<Integer> eosIds();

    /**
     * Returns whether a prompt should start with BOS, as the model's tokenizer configuration sets it
     * (Hugging Face {@code add_bos_token}, GGUF {@code tokenizer.ggml.add_bos_token}). Callers that
     * encode a prompt pass this to {@link #encode}. By default: whenever there is a BOS id.
     */
    default boolean addBosByDefault() {
        return bosId() >= 0;
    }

    /** Encodes {@code text}, adding the BOS id first when {@code addBos} is true and the vocabulary has one. */
    int[] encode(String text, boolean addBos);

    /**
     * Decodes {@code ids} to text; special tokens such as BOS and EOS produce no text.
     *
     * @throws IllegalArgumentException when an id is outside {@code 0..vocabSize()-1}
     */
    String decode(int[] ids);

    /**
     * The raw bytes token {@code id} stands for, before UTF-8 decoding (empty for special tokens).
     *
     * @throws IllegalArgumentException when {@code id} is outside {@code 0..vocabSize()-1}
     */
    byte[] tokenBytes(int id);

    /**
     * Returns the bytes token {@code id} adds to the decoded text when it follows token {@code previousId}
     * (-1 when it is the first token). SentencePiece vocabularies drop the leading space of the
     * piece right after BOS, the space that encoding put in front of the text. By default this is
     * {@link #tokenBytes(int)}.
     */
    default byte[] tokenBytesAfter(int previousId, int id) {
        return tokenBytes(id);
    }

    /**
     * Starts an incremental decoder for one sequence: it returns text as tokens arrive and never
     * splits a UTF-8 character across two chunks.
     */
    default StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }
}
