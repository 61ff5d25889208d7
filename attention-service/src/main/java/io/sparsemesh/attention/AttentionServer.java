package io.sparsemesh.attention;

import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.protocol.v1.AttentionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The attention service without gRPC or Spring: the loaded layers of one range, the sequence
 * caches, the metrics, and a background task that frees idle sequences. Each Forward stream gets
 * a {@link ForwardSession} from {@link #openSession()}.
 *
 * <p>The server does not own the {@link AttentionModel}: the caller that loaded it closes it
 * after closing the server.
 */
public final class AttentionServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AttentionServer.class);

    private static final Duration MAX_SWEEP_PERIOD = Duration.ofSeconds(30);

    private final AttentionModel model;
    private final SequenceCacheRegistry registry;
    private final AttentionMetrics metrics;
    private final AtomicLong nextStreamId = new AtomicLong(1);
    private final ScheduledExecutorService sweeper;

    public AttentionServer(AttentionModel model, AttentionLimits limits, MeterRegistry meters) {
        this.model = model;
        this.registry = new SequenceCacheRegistry(model, limits);
        this.metrics = new AttentionMetrics(meters, registry, model.range());
        this.sweeper = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("attention-idle-sweeper").daemon().factory());
        long period = Math.max(10, Math.min(limits.idleTimeout().dividedBy(4).toMillis(), MAX_SWEEP_PERIOD.toMillis()));
        sweeper.scheduleWithFixedDelay(this::evictIdle, period, period, TimeUnit.MILLISECONDS);
        logCacheBudget(limits);
    }

    private void evictIdle() {
        try {
            registry.evictIdle(System.nanoTime());
        } catch (RuntimeException e) {
            log.error("Freeing idle sequences failed; trying again in the next sweep", e);
        }
    }

    /** Logs the cache bytes per token and warns when the token limit allows caches larger than the heap. */
    private void logCacheBudget(AttentionLimits limits) {
        long bytesPerToken = 0;
        for (AttentionLayer layer : model.layers()) {
            bytesPerToken += layer.newCache(1).byteSize();
        }
        long worstCase = bytesPerToken * limits.maxCachedTokens();
        long heap = Runtime.getRuntime().maxMemory();
        log.info("Attention service for layers {} of {}: {} bytes of cache per token; limits {} sequences, {} tokens"
                        + " (up to {} MiB of caches), context {}, idle timeout {}", model.range(), model.name(),
                bytesPerToken, limits.maxSequences(), limits.maxCachedTokens(), worstCase >> 20, limits.contextLength(),
                limits.idleTimeout());
        if (worstCase > heap / 2) {
            log.warn("max-cached-tokens {} allows {} MiB of caches, more than half the {} MiB heap (caches grow by"
                            + " doubling, so they may take up to twice the tokens' bytes); lower the limit or raise -Xmx",
                    limits.maxCachedTokens(), worstCase >> 20, heap >> 20);
        }
    }

    public AttentionModel model() {
        return model;
    }

    public SequenceCacheRegistry registry() {
        return registry;
    }

    /** Starts the state of one Forward stream. */
    ForwardSession openSession() {
        ForwardSession session = new ForwardSession(nextStreamId.getAndIncrement(), model, registry, metrics);
        log.info("Forward stream {} opened", session.streamId());
        return session;
    }

    /** Frees the caches of {@code sequenceIds}; unknown ids are ignored. Returns how many were freed. */
    public int release(long[] sequenceIds) {
        return registry.release(sequenceIds);
    }

    public AttentionInfo describe() {
        AttentionLimits limits = registry.limits();
        return AttentionInfo.newBuilder()
                .setModel(model.name())
                .setFirstLayer(model.range().first())
                .setEndLayer(model.range().end())
                .setHiddenSize(model.config().hiddenSize())
                .setMaxSequences(limits.maxSequences())
                .setMaxCachedTokens(limits.maxCachedTokens())
                .setCachedSequences(registry.cachedSequences())
                .setCachedTokens(registry.cachedTokens())
                .setCacheBytes(registry.cacheBytes())
                .build();
    }

    /** Stops the idle sweeper. Streams still open keep working until they end. */
    @Override
    public void close() {
        sweeper.shutdownNow();
        log.info("Attention service for layers {} of {} stopped with {} sequences cached", model.range(), model.name(),
                registry.cachedSequences());
    }
}
