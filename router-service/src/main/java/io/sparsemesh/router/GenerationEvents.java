package io.sparsemesh.router;

import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationStats;

/**
 * What {@link GenerationService} reports about one generation, in order: {@link #started} once,
 * {@link #token} per token, then {@link #finished} or {@link #failed}. Called on the scheduler's
 * step thread: implementations must not block.
 */
public interface GenerationEvents {

    /** The generation was accepted; {@code promptIds} is the encoded prompt, which the callee must not change. */
    void started(int[] promptIds);

    /** A token and the text it completes (empty while a UTF-8 character is unfinished). */
    void token(int id, String text);

    /** The generation ended; {@code text} is any text still held back by the decoder. */
    void finished(FinishReason reason, GenerationStats stats, String text);

    void failed(Throwable error);
}
