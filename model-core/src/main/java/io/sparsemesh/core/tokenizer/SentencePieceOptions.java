package io.sparsemesh.core.tokenizer;

/**
 * How a SentencePiece tokenizer treats text around the vocabulary.
 *
 * @param addBos whether prompts start with BOS by default (GGUF {@code tokenizer.ggml.add_bos_token},
 *     true for Llama)
 * @param addDummyPrefix whether a space is put before the text so its first word is encoded like
 *     any other word (SentencePiece {@code add_dummy_prefix}, GGUF {@code tokenizer.ggml.add_space_prefix});
 *     decoding drops that space again from the first piece after BOS
 * @param removeExtraWhitespaces whether leading and trailing spaces are removed and runs of spaces
 *     collapsed to one before encoding (SentencePiece's normalizer option
 *     {@code remove_extra_whitespaces}). llama.cpp and llama2.c never do this
 */
public record SentencePieceOptions(boolean addBos, boolean addDummyPrefix, boolean removeExtraWhitespaces) {

    /** What llama.cpp and llama2.c do for a Llama vocabulary: BOS, dummy prefix, text otherwise untouched. */
    public static final SentencePieceOptions LLAMA = new SentencePieceOptions(true, true, false);
}
