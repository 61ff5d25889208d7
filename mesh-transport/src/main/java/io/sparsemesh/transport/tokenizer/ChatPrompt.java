package io.sparsemesh.transport.tokenizer;

/** A conversation rendered by the model's chat template, and its token ids, ready for prefill. */
public record ChatPrompt(String prompt, int[] ids) {
}
