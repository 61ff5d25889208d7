package io.sparsemesh.tokenizer;

/**
 * Input limits of the tokenizer service: the UTF-8 size of the text of one request (encode, or all
 * message contents of a chat request together), and the number of token ids of one request.
 */
public record TokenizerLimits(long maxInputBytes, int maxInputTokens) {

    public TokenizerLimits {
        if (maxInputBytes <= 0 || maxInputTokens <= 0) {
            throw new IllegalArgumentException("tokenizer limits must be positive, got maxInputBytes=" + maxInputBytes
                    + " and maxInputTokens=" + maxInputTokens);
        }
    }
}
