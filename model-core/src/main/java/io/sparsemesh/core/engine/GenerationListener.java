package io.sparsemesh.core.engine;

/**
 * Receives one generation's tokens as they are sampled. Callbacks run on the engine's step
 * thread, so they must be quick and must not block.
 */
public interface GenerationListener {

    /**
     * Receives the next token. Returns false to end the generation here with {@link FinishReason#STOP},
     * e.g. because the text now contains a stop string.
     */
    boolean onToken(int token);

    /** Called once when the generation ends normally or is cancelled. */
    void onFinish(FinishReason reason, GenerationStats stats);

    /** Called once, instead of {@link #onFinish}, when the generation failed. */
    void onError(Throwable error);
}
