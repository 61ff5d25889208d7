package io.sparsemesh.core.engine;

/** Why a generation ended, with the names OpenAI's API uses where it has them. */
public enum FinishReason {
    /** An end-of-sequence token, a stop token or a stop string. */
    STOP,
    /** {@code max_tokens} reached, or the context is full. */
    LENGTH,
    /** The caller cancelled. */
    CANCELLED,
    /** A failure ended it; {@link GenerationListener#onError} has the cause. */
    ERROR;

    public String openAiName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
