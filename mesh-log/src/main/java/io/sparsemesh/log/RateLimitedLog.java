package io.sparsemesh.log;

import org.slf4j.Logger;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs a repeated warning at most once per interval, with the number of occurrences since the
 * last line, so a burst of drops neither floods the log nor goes unreported.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong suppressed = new AtomicLong();
    private final AtomicLong lastLogNanos;

    public RateLimitedLog(Logger log, Duration interval) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.lastLogNanos = new AtomicLong(System.nanoTime() - intervalNanos);
    }

    /** Counts one occurrence and logs {@code message} with the count if the interval has passed. */
    public void warn(String message, Object detail) {
        suppressed.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= intervalNanos && lastLogNanos.compareAndSet(last, now)) {
            long occurrences = suppressed.getAndSet(0);
            log.warn("{} ({}; {} times since the last report)", message, detail, occurrences);
        }
    }
}
