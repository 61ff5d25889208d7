package io.sparsemesh.core.tokenizer;

/**
 * Text handling of a SentencePiece tokenizer around its vocabulary: BOS, dummy prefix and
 * whitespace normalization.
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

    /** The options of llama.cpp and llama2.c for a Llama vocabulary: BOS, a dummy prefix, no whitespace normalization. */
    public static final SentencePieceOptions LLAMA = new SentencePieceOptions(true, true, false);
}
