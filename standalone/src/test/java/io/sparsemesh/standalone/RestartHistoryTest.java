package io.sparsemesh.standalone;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The restart delays and limits of {@link RestartHistory}, driven with explicit times. */
class RestartHistoryTest {

    static final long SECOND = Duration.ofSeconds(1).toNanos();

    /** The default policy: 1 s doubling to 30 s, reset after 60 s up, at most 5 restarts within 10 minutes. */
    static final RestartPolicy POLICY = RestartPolicy.onFailure();

    @Test
    void delaysDoubleUpToMax() {
        RestartPolicy generous = new RestartPolicy(RestartPolicy.Mode.ON_FAILURE, Duration.ofSeconds(1),
                Duration.ofSeconds(30), Duration.ofSeconds(60), 100, Duration.ofMinutes(10));
        RestartHistory history = new RestartHistory(generous, 0);
        long[] expectedSeconds = {1, 2, 4, 8, 16, 30, 30};
        long now = 0;
        for (int i = 0; i < expectedSeconds.length; i++) {
            now += SECOND; // each process dies one second after it started
            assertEquals(Optional.of(Duration.ofSeconds(expectedSeconds[i])), history.nextDelay(now), "restart " + (i + 1));
            history.started(now);
        }
    }

    @Test
    void delayStartsOverAfterLongUptime() {
        RestartHistory history = new RestartHistory(POLICY, 0);
        assertEquals(Optional.of(Duration.ofSeconds(1)), history.nextDelay(SECOND));
        history.started(2 * SECOND);
        assertEquals(Optional.of(Duration.ofSeconds(2)), history.nextDelay(3 * SECOND));
        history.started(5 * SECOND);

        assertEquals(Optional.of(Duration.ofSeconds(1)), history.nextDelay(65 * SECOND), "after 60 s up");
    }

    @Test
    void serviceStaysDownAfterMaxRestarts() {
        RestartHistory history = new RestartHistory(POLICY, 0);
        long now = 0;
        for (int i = 0; i < POLICY.maxRestarts(); i++) {
            now += SECOND;
            assertTrue(history.nextDelay(now).isPresent(), "restart " + (i + 1));
            history.started(now);
        }

        assertEquals(Optional.empty(), history.nextDelay(now + SECOND));
        assertEquals(POLICY.maxRestarts(), history.restartsInWindow());
    }

    @Test
    void restartsLeaveWindow() {
        RestartHistory history = new RestartHistory(POLICY, 0);
        for (int i = 1; i <= POLICY.maxRestarts(); i++) {
            history.nextDelay(i * SECOND);
            history.started(i * SECOND);
        }
        long afterFirstLeft = Duration.ofMinutes(10).toNanos() + SECOND;

        assertTrue(history.nextDelay(afterFirstLeft).isPresent(), "the first restart left the window");
        assertEquals(POLICY.maxRestarts(), history.restartsInWindow());
    }

    @Test
    void modeParsesFlags() {
        assertEquals(RestartPolicy.Mode.ON_FAILURE, RestartPolicy.Mode.parse("on-failure"));
        assertEquals(RestartPolicy.Mode.NO, RestartPolicy.Mode.parse("NO"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> RestartPolicy.Mode.parse("always"));
        assertEquals("invalid restart mode 'always'; expected one of [no, on-failure]", error.getMessage());
    }
}
