package io.sparsemesh.router;

/**
 * The prompt plus the requested output tokens do not fit in the model's context. Carries the
 * numbers, so each front end can word the fix with its own field names.
 */
public final class ContextLengthExceededException extends InvalidRequestException {

    private final int contextLength;
    private final int promptTokens;
    private final int maxTokens;

    public ContextLengthExceededException(int contextLength, int promptTokens, int maxTokens) {
        super(Kind.CONTEXT_EXCEEDED, "max_tokens", "this model's context length is " + contextLength
                + " tokens, but the request needs " + ((long) promptTokens + maxTokens) + ": " + promptTokens
                + " prompt tokens plus max_tokens " + maxTokens + "; set max_tokens to at most "
                + (contextLength - promptTokens) + " or shorten the prompt");
        this.contextLength = contextLength;
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
    }

    /** Returns the tokens per sequence, prompt plus output. */
    public int contextLength() {
        return contextLength;
    }

    public int promptTokens() {
        return promptTokens;
    }

    /** Returns the output tokens that the request set. */
    public int maxTokens() {
        return maxTokens;
    }

    /** Returns the maximum output tokens that fit after the prompt. */
    public int room() {
        return contextLength - promptTokens;
    }
}
