package io.sparsemesh.core.engine;

/**
 * Counts and timings of one finished generation.
 *
 * @param timeToFirstTokenNanos from submission to the first generated token
 * @param decodeNanos           from the first to the last generated token
 */
public record GenerationStats(int promptTokens, int completionTokens, long timeToFirstTokenNanos, long decodeNanos) {

    /** Mean time per output token after the first, in nanoseconds (0 with fewer than two tokens). */
    public double timePerOutputTokenNanos() {
        return completionTokens > 1 ? (double) decodeNanos / (completionTokens - 1) : 0;
    }
}
