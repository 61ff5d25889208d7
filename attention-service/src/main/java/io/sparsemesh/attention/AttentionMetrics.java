package io.sparsemesh.attention;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.sparsemesh.transport.attention.LayerRange;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The attention service's Micrometer meters. In Prometheus form: {@code
 * sparsemesh_attention_cached_sequences}, {@code _cached_tokens}, {@code _cache_bytes}, {@code
 * _max_sequences}, {@code _max_cached_tokens}, {@code _indexer_runs_total}, {@code
 * _indexer_reuses_total}, {@code _sequences_freed_total{reason}}, {@code _layer_seconds{layer}}
 * (time to run one layer of one request) and {@code _requests_total{outcome}} (outcome is the
 * gRPC status code of the response, {@code ok} or e.g. {@code resource_exhausted}).
 */
public final class AttentionMetrics {

    private final MeterRegistry meters;
    private final Timer[] layerTimers;
    private final int firstLayer;
    private final Map<Status.Code, Counter> requests = new ConcurrentHashMap<>();

    public AttentionMetrics(MeterRegistry meters, SequenceCacheRegistry caches, LayerRange range) {
        this.meters = meters;
        this.firstLayer = range.first();
        registerCacheGauges(caches);
        registerCacheCounters(caches);

        layerTimers = new Timer[range.size()];
        for (int layer = range.first(); layer < range.end(); layer++) {
            layerTimers[layer - range.first()] = Timer.builder("sparsemesh.attention.layer")
                    .description("Time to run one attention layer for the rows of one request")
                    .tag("layer", Integer.toString(layer))
                    .register(meters);
        }
        countRequest(Status.Code.OK, 0);
    }

    private void registerCacheGauges(SequenceCacheRegistry caches) {
        Gauge.builder("sparsemesh.attention.cached.sequences", caches, SequenceCacheRegistry::cachedSequences)
                .description("Sequences whose caches this attention service holds")
                .register(meters);
        Gauge.builder("sparsemesh.attention.cached.tokens", caches, SequenceCacheRegistry::cachedTokens)
                .description("Token positions cached over all sequences")
                .register(meters);
        Gauge.builder("sparsemesh.attention.cache", caches, SequenceCacheRegistry::cacheBytes)
                .description("Heap held by the caches of all sequences")
                .baseUnit(BaseUnits.BYTES)
                .register(meters);

        Gauge.builder("sparsemesh.attention.max.sequences", caches, c -> c.limits().maxSequences())
                .description("Sequences this attention service may hold")
                .register(meters);
        Gauge.builder("sparsemesh.attention.max.cached.tokens", caches, c -> c.limits().maxCachedTokens())
                .description("Token positions this attention service may cache")
                .register(meters);
    }

    private void registerCacheCounters(SequenceCacheRegistry caches) {
        FunctionCounter.builder("sparsemesh.attention.indexer.runs", caches, SequenceCacheRegistry::indexerRuns)
                .description("Rows for which a FULL layer's lightning indexer selected the top-k positions")
                .register(meters);
        FunctionCounter.builder("sparsemesh.attention.indexer.reuses", caches, SequenceCacheRegistry::indexerReuses)
                .description("Rows for which a SHARED layer reused an earlier FULL layer's top-k positions")
                .register(meters);

        for (SequenceCacheRegistry.FreeReason reason : SequenceCacheRegistry.FreeReason.values()) {
            FunctionCounter.builder("sparsemesh.attention.sequences.freed", caches, c -> c.freed(reason))
                    .description("Sequences whose caches were freed, by reason")
                    .tag("reason", reason.name().toLowerCase(Locale.ROOT))
                    .register(meters);
        }
    }

    void recordLayer(int layer, long nanos) {
        layerTimers[layer - firstLayer].record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts one Forward request by the status code of its response. */
    void countRequest(Status.Code outcome) {
        countRequest(outcome, 1);
    }

    private void countRequest(Status.Code outcome, int amount) {
        requests.computeIfAbsent(outcome, code -> Counter.builder("sparsemesh.attention.requests")
                .description("Forward requests by the status code of their response")
                .tag("outcome", code.name().toLowerCase(Locale.ROOT))
                .register(meters)).increment(amount);
    }
}
