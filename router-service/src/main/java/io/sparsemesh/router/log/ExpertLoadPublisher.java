package io.sparsemesh.router.log;

import io.sparsemesh.log.ExpertLoadRecord;
import io.sparsemesh.log.MeshLog;
import io.sparsemesh.router.RouterMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Publishes the tokens routed to each expert as {@code sparsemesh.expert-load} records, one per
 * MoE layer and interval, from the per-layer counts that {@link RouterMetrics} keeps. Layers that
 * routed no token in an interval (dense layers among them) get no record, so a missing record
 * means zero load.
 */
public final class ExpertLoadPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ExpertLoadPublisher.class);

    private final MeshLog meshLog;
    private final RouterMetrics metrics;
    private final String modelId;
    private final int layers;
    private final Clock clock;
    private ScheduledExecutorService timer;
    private Instant intervalStart;

    public ExpertLoadPublisher(MeshLog meshLog, RouterMetrics metrics, String modelId, int layers, Clock clock) {
        this.meshLog = meshLog;
        this.metrics = metrics;
        this.modelId = modelId;
        this.layers = layers;
        this.clock = clock;
        this.intervalStart = clock.instant();
    }

    /** Starts publishing every {@code interval} on a daemon thread. */
    public synchronized void start(Duration interval) {
        if (timer != null) {
            return;
        }
        intervalStart = clock.instant();
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("expert-load-log").factory());
        long millis = interval.toMillis();
        timer.scheduleAtFixedRate(this::publishSafely, millis, millis, TimeUnit.MILLISECONDS);
        log.info("Publishing expert load of model {} every {}", modelId, interval);
    }

    /** Publishes the interval since the last call and starts the next; returns the records published. */
    public synchronized int publishInterval() {
        Instant end = clock.instant();
        long[][] counts = metrics.drainLayerExpertTokens(layers);
        int published = 0;
        for (int layer = 0; layer < counts.length; layer++) {
            if (hasLoad(counts[layer])) {
                meshLog.publish(new ExpertLoadRecord(modelId, intervalStart, end, layer, counts[layer]));
                published++;
            }
        }
        intervalStart = end;
        return published;
    }

    /** Stops the timer and publishes the last, partial interval. */
    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
        publishSafely();
    }

    private void publishSafely() {
        try {
            publishInterval();
        } catch (RuntimeException e) {
            log.warn("Failed to publish the expert load of model {}: {}", modelId, e.toString());
        }
    }

    private static boolean hasLoad(long[] tokensPerExpert) {
        for (long tokens : tokensPerExpert) {
            if (tokens > 0) {
                return true;
            }
        }
        return false;
    }
}
