package io.sparsemesh.standalone;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * When the process mesh restarts a service whose process exited without being stopped by the
 * mesh. With {@link Mode#ON_FAILURE}, a process that exits with a non-zero code is started again
 * after a delay that begins at {@code initialDelay} and doubles with each restart up to
 * {@code maxDelay}. The delay drops back to {@code initialDelay} once a process has stayed up for
 * {@code resetAfter}. A service that needs more than {@code maxRestarts} restarts within
 * {@code window} is left down.
 *
 * @param mode         whether exited services are restarted
 * @param initialDelay delay before the first restart
 * @param maxDelay     largest delay between restarts
 * @param resetAfter   uptime after which a process counts as healthy and the delay starts over
 * @param maxRestarts  restarts allowed within {@code window}
 * @param window       period over which restarts are counted
 */
public record RestartPolicy(Mode mode, Duration initialDelay, Duration maxDelay, Duration resetAfter, int maxRestarts,
                            Duration window) {

    /** Whether exited services are restarted, named as in {@code --restart}. */
    public enum Mode {
        /** Never restart: the exit is logged and the service stays down. */
        NO("no"),
        /** Restart after an exit with a non-zero code, such as a crash or a kill. */
        ON_FAILURE("on-failure");

        private final String flag;

        Mode(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        /** Parses a {@code --restart} value: {@code no} or {@code on-failure}. */
        public static Mode parse(String flag) {
            String normalized = flag.strip().toLowerCase(Locale.ROOT);
            for (Mode mode : values()) {
                if (mode.flag.equals(normalized)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("invalid restart mode '" + flag + "'; expected one of "
                    + Arrays.stream(values()).map(Mode::flag).toList());
        }
    }

    public RestartPolicy {
        if (initialDelay.isNegative() || initialDelay.isZero() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("restart delays must satisfy 0 < initialDelay <= maxDelay, got "
                    + initialDelay + " and " + maxDelay);
        }
        if (maxRestarts < 1 || window.isNegative() || window.isZero() || resetAfter.isNegative()) {
            throw new IllegalArgumentException("a restart policy needs maxRestarts >= 1, a positive window and"
                    + " resetAfter >= 0, got " + maxRestarts + ", " + window + " and " + resetAfter);
        }
    }

    /**
     * Restarts a failed service after 1 s, doubling to at most 30 s, and starts over once it has
     * stayed up for 60 s. A service that needs more than 5 restarts within 10 minutes is left down.
     */
    public static RestartPolicy onFailure() {
        return new RestartPolicy(Mode.ON_FAILURE, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60),
                5, Duration.ofMinutes(10));
    }

    /** Never restarts: for tests and experiments that stop services on purpose or must see every failure. */
    public static RestartPolicy no() {
        return onFailure().withMode(Mode.NO);
    }

    public RestartPolicy withMode(Mode newMode) {
        return new RestartPolicy(newMode, initialDelay, maxDelay, resetAfter, maxRestarts, window);
    }
}
