package io.sparsemesh.core.engine;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link GenerationListener} that collects a generation's token ids and completes a future with
 * them as one array when the generation ends.
 *
 * <p>{@link #tokens()} completes normally when the generation finishes for any reason, including
 * {@link FinishReason#CANCELLED}, so a cancelled generation yields the tokens sampled before the
 * cancellation. It completes exceptionally with the scheduler's error when the generation fails.
 * {@link #finishReason()} and {@link #stats()} are set before {@link #tokens()} completes.
 */
public final class TokenCollector implements GenerationListener {

    private final CompletableFuture<int[]> tokens = new CompletableFuture<>();
    // written on the scheduler's step thread only
    private int[] buffer = new int[16];
    private int count;
    private volatile FinishReason finishReason;
    private volatile GenerationStats stats;

    /**
     * Submits {@code request} to {@code scheduler} with a new collector and returns the future of
     * its tokens. Throws what {@link Scheduler#submit} throws for a request it rejects.
     */
    public static CompletableFuture<int[]> submit(Scheduler scheduler, GenerationRequest request) {
        TokenCollector collector = new TokenCollector();
        scheduler.submit(request, collector);
        return collector.tokens();
    }

    /** Returns the future of the generated token ids in order, which completes when the generation ends. */
    public CompletableFuture<int[]> tokens() {
        return tokens;
    }

    /** Returns why the generation ended, or null while it runs. A failure reports {@link FinishReason#ERROR}. */
    public FinishReason finishReason() {
        return finishReason;
    }

    /** Returns the counts and timings of the finished generation, or null while it runs and after a failure. */
    public GenerationStats stats() {
        return stats;
    }

    @Override
    public boolean onToken(int token) {
        if (count == buffer.length) {
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        buffer[count++] = token;
        return true;
    }

    @Override
    public void onFinish(FinishReason reason, GenerationStats stats) {
        this.stats = stats;
        this.finishReason = reason;
        tokens.complete(Arrays.copyOf(buffer, count));
    }

    @Override
    public void onError(Throwable error) {
        this.finishReason = FinishReason.ERROR;
        tokens.completeExceptionally(error);
    }
}
