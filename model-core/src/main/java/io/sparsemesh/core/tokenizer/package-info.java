/**
 * Tokenizers for the files checkpoints come with, opened through {@link io.sparsemesh.core.tokenizer.Tokenizers}.
 *
 * <ul>
 *   <li>SentencePiece BPE (Llama 2, llama.cpp's "llama" type): {@link io.sparsemesh.core.tokenizer.SentencePieceTokenizer},
 *       from a llama2.c {@code tok*.bin}, a SentencePiece {@code tokenizer.model} or GGUF metadata.
 *       Encoding matches llama.cpp. The three sources of one vocabulary encode alike, except that a
 *       {@code tokenizer.model} whose normalizer sets {@code remove_extra_whitespaces} (stories260K's
 *       does) trims and collapses runs of spaces, as SentencePiece does, so for it
 *       {@code decode(encode(x))} equals x with runs of spaces collapsed rather than x itself.</li>
 *   <li>Hugging Face {@code tokenizer.json}: {@link io.sparsemesh.core.tokenizer.HfJsonTokenizer},
 *       which encodes with the tokenizers library and decodes byte-level (GPT-2 alphabet) and
 *       SentencePiece-style vocabularies itself.</li>
 * </ul>
 *
 * <p>Decoding drops the space that encoding put before the text only from the first piece right
 * after BOS, and {@link io.sparsemesh.core.tokenizer.StreamingDecoder} does the same, so streamed
 * chunks concatenate to {@code decode} of the same ids and a streamed continuation keeps its
 * leading space.
 */
package io.sparsemesh.core.tokenizer;
