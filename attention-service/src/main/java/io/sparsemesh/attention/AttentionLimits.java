package io.sparsemesh.attention;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits on the caches of one attention service.
 *
 * @param maxSequences    sequences with caches at most
 * @param maxCachedTokens token positions cached over all sequences at most
 * @param idleTimeout     how long a sequence may go without a step before its caches are freed
 * @param contextLength   token positions one sequence may hold; each cache is sized for this
 */
public record AttentionLimits(int maxSequences, long maxCachedTokens, Duration idleTimeout, int contextLength) {

    public AttentionLimits {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
        }
        if (maxCachedTokens < 1) {
            throw new IllegalArgumentException("maxCachedTokens must be >= 1, got " + maxCachedTokens);
        }
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
        }
        if (contextLength < 1) {
            throw new IllegalArgumentException("contextLength must be >= 1, got " + contextLength);
        }
    }
}
