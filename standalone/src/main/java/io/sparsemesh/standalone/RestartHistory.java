package io.sparsemesh.standalone;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;

/**
 * The restarts of one service under a {@link RestartPolicy}, which decide the delay before its
 * next restart or that it stays down. Times are {@link System#nanoTime()} values passed in by the
 * caller. Not thread-safe.
 */
final class RestartHistory {

    /** Doublings after which the delay is capped anyway, so that the multiplication cannot overflow. */
    private static final int MAX_DOUBLINGS = 30;

    private final RestartPolicy policy;
    private final ArrayDeque<Long> restartNanos = new ArrayDeque<>();
    private int doublings;
    private long startedAtNanos;

    RestartHistory(RestartPolicy policy, long startedAtNanos) {
        this.policy = policy;
        this.startedAtNanos = startedAtNanos;
    }

    /** Records that the service's process started at {@code nowNanos}. */
    void started(long nowNanos) {
        startedAtNanos = nowNanos;
    }

    /**
     * Records a restart of a process that exited at {@code nowNanos} and returns the delay before
     * it. Returns empty, recording nothing, when the service has used up its restarts within the
     * policy's window.
     */
    Optional<Duration> nextDelay(long nowNanos) {
        if (nowNanos - startedAtNanos >= policy.resetAfter().toNanos()) {
            doublings = 0;
        }
        while (!restartNanos.isEmpty() && nowNanos - restartNanos.peekFirst() >= policy.window().toNanos()) {
            restartNanos.pollFirst();
        }
        if (restartNanos.size() >= policy.maxRestarts()) {
            return Optional.empty();
        }

        Duration delay = policy.initialDelay().multipliedBy(1L << Math.min(doublings, MAX_DOUBLINGS));
        if (delay.compareTo(policy.maxDelay()) > 0) {
            delay = policy.maxDelay();
        }
        doublings++;
        restartNanos.addLast(nowNanos);
        return Optional.of(delay);
    }

    /** Returns the restarts recorded within the policy's window, as of the last {@link #nextDelay} call. */
    int restartsInWindow() {
        return restartNanos.size();
    }
}
