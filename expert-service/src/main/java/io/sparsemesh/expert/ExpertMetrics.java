package io.sparsemesh.expert;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparsemesh.core.config.ModelConfig;

import java.util.function.Supplier;

/**
 * The expert service's Micrometer meters, each tagged with {@code shard}. In Prometheus form:
 * <ul>
 *   <li>{@code sparsemesh_expert_routed_tokens_total{shard}}: work done by the shard, counted as
 *       one per (row, routed expert held here) pair and one per row of a dense FFN, over every
 *       layer. Its rate is the shard's routed tokens per second, the metric its autoscaler uses;</li>
 *   <li>{@code sparsemesh_expert_routed_tokens_by_expert_total{shard,expert}}: the same per routed
 *       expert, summed over layers (one series per expert held here);</li>
 *   <li>{@code sparsemesh_expert_routed_tokens_by_layer_total{shard,layer}}: the same per layer
 *       (one series per layer the shard serves);</li>
 *   <li>{@code sparsemesh_expert_request_rows{shard,kind}} and
 *       {@code sparsemesh_expert_request_latency_seconds{shard,kind}}: rows and compute time per
 *       request, {@code kind} being {@code routed} or {@code dense};</li>
 *   <li>{@code sparsemesh_expert_request_errors_total{shard,code}}: rejected or failed requests by gRPC status;</li>
 *   <li>{@code sparsemesh_expert_streams_active{shard}} and {@code sparsemesh_expert_requests_active{shard}}:
 *       open Forward streams and requests being computed;</li>
 *   <li>{@code sparsemesh_expert_mapped_bytes{shard}} and {@code sparsemesh_expert_resident_memory_bytes{shard}}:
 *       checkpoint bytes mapped by the shard and the process's resident set size.</li>
 * </ul>
 * Tag values are bounded by the experts and layers of the model, so the series count stays small.
 */
public final class ExpertMetrics {

    /** Request kinds, the {@code kind} tag. */
    enum Kind { ROUTED, DENSE }

    private final MeterRegistry registry;
    private final String shard;
    private final Counter routedTokens;
    private final Counter[] byExpert; // indexed by expert id, null for experts not held here
    private final Counter[] byLayer;  // indexed by layer, null for layers not served here
    private final DistributionSummary[] rows;
    private final Timer[] latency;

    /**
     * @param activeStreams  open Forward streams, read at each scrape
     * @param activeRequests requests being computed, read at each scrape
     */
    public ExpertMetrics(MeterRegistry registry, HostedShard hosted, Supplier<Number> activeStreams,
                         Supplier<Number> activeRequests) {
        this.registry = registry;
        this.shard = Integer.toString(hosted.shard());
        ModelConfig config = hosted.config();

        routedTokens = Counter.builder("sparsemesh.expert.routed.tokens")
                .description("Row-expert pairs computed (dense FFN rows count one each); its rate drives the shard's autoscaler")
                .tag("shard", shard)
                .register(registry);
        byExpert = new Counter[config.moe() == null ? 0 : config.moe().numRoutedExperts()];
        for (int expert : hosted.experts().expertIds()) {
            byExpert[expert] = Counter.builder("sparsemesh.expert.routed.tokens.by.expert")
                    .description("Rows computed by one routed expert, summed over layers")
                    .tags("shard", shard, "expert", Integer.toString(expert))
                    .register(registry);
        }
        byLayer = new Counter[config.numLayers()];
        for (int layer = 0; layer < byLayer.length; layer++) {
            if (config.isMoeLayer(layer) || hosted.denseLayers().contains(layer)) {
                byLayer[layer] = Counter.builder("sparsemesh.expert.routed.tokens.by.layer")
                        .description("Row-expert pairs (or dense rows) computed for one layer")
                        .tags("shard", shard, "layer", Integer.toString(layer))
                        .register(registry);
            }
        }

        rows = new DistributionSummary[Kind.values().length];
        latency = new Timer[Kind.values().length];
        for (Kind kind : Kind.values()) {
            String tag = kind.name().toLowerCase(java.util.Locale.ROOT);
            rows[kind.ordinal()] = DistributionSummary.builder("sparsemesh.expert.request.rows")
                    .description("Rows per Forward request")
                    .tags("shard", shard, "kind", tag)
                    .register(registry);
            latency[kind.ordinal()] = Timer.builder("sparsemesh.expert.request.latency")
                    .description("Time to decode, compute and encode one Forward request")
                    .tags("shard", shard, "kind", tag)
                    .publishPercentileHistogram()
                    .register(registry);
        }

        Gauge.builder("sparsemesh.expert.streams.active", activeStreams)
                .description("Open Forward streams").tag("shard", shard).register(registry);
        Gauge.builder("sparsemesh.expert.requests.active", activeRequests)
                .description("Forward requests being computed").tag("shard", shard).register(registry);
        Gauge.builder("sparsemesh.expert.mapped.bytes", hosted, HostedShard::mappedBytes)
                .description("Checkpoint bytes mapped by this shard").baseUnit("bytes").tag("shard", shard)
                .register(registry);
        Gauge.builder("sparsemesh.expert.resident.memory", ResidentMemory::bytes)
                .description("Resident set size of the process (VmRSS)").baseUnit("bytes").tag("shard", shard)
                .register(registry);
    }

    /** Counts one routed request: {@code expertRows[e]} rows went to expert {@code e} held here. */
    void recordRouted(int layer, int requestRows, int[] expertRows, long nanos) {
        long pairs = 0;
        for (int expert = 0; expert < byExpert.length; expert++) {
            if (expertRows[expert] > 0 && byExpert[expert] != null) {
                byExpert[expert].increment(expertRows[expert]);
                pairs += expertRows[expert];
            }
        }
        record(Kind.ROUTED, layer, requestRows, pairs, nanos);
    }

    /** Counts one dense request of {@code requestRows} rows. */
    void recordDense(int layer, int requestRows, long nanos) {
        record(Kind.DENSE, layer, requestRows, requestRows, nanos);
    }

    void recordError(Status.Code code) {
        registry.counter("sparsemesh.expert.request.errors", "shard", shard, "code", code.name()).increment();
    }

    private void record(Kind kind, int layer, int requestRows, long pairs, long nanos) {
        routedTokens.increment(pairs);
        if (byLayer[layer] != null) {
            byLayer[layer].increment(pairs);
        }
        rows[kind.ordinal()].record(requestRows);
        latency[kind.ordinal()].record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
