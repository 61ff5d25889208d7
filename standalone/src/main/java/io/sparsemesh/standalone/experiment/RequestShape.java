package io.sparsemesh.standalone.experiment;

/** One request to send: its prompt as token ids and the tokens to generate. */
public record RequestShape(int[] promptIds, int maxTokens) {
}
