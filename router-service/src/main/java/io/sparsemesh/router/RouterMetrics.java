package io.sparsemesh.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.StepObserver;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.RoutingObserver;
import io.sparsemesh.core.moe.ShardLayout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The router's scheduler and routing metrics. Tokens routed to each expert and shard are the load
 * signal per-shard autoscaling uses: {@code sparsemesh_router_expert_tokens_total{expert}} and
 * {@code sparsemesh_router_shard_tokens_total{shard}} (a token routed to k experts counts k times,
 * once per expert). Per-layer counts are also kept for the expert-load log.
 */
public final class RouterMetrics implements StepObserver, RoutingObserver {

    private final DistributionSummary stepRows;
    private final Timer stepDuration;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final Counter[] expertTokens;
    private final Counter[] shardTokens;
    private final ShardLayout layout;
    private final int experts;
    private final AtomicLongArray layerExpertTokens; // [layer × expert], since the last snapshot

    public RouterMetrics(MeterRegistry registry, ModelConfig config, ShardLayout layout) {
        this.layout = layout;
        this.experts = config.moe() == null ? 0 : config.moe().numRoutedExperts();
        this.stepRows = DistributionSummary.builder("sparsemesh.router.step.rows")
                .description("Rows (tokens) per forward step: the batch size")
                .publishPercentiles(0.5, 0.9, 0.99)
                .register(registry);
        this.stepDuration = Timer.builder("sparsemesh.router.step.duration")
                .description("Time of one forward step over every layer")
                .publishPercentiles(0.5, 0.9, 0.99)
                .register(registry);
        Gauge.builder("sparsemesh.router.sequences.running", running, AtomicInteger::get)
                .description("Sequences in the running batch").register(registry);
        Gauge.builder("sparsemesh.router.queue.depth", waiting, AtomicInteger::get)
                .description("Requests waiting to join the running batch").register(registry);

        this.expertTokens = new Counter[experts];
        for (int e = 0; e < experts; e++) {
            expertTokens[e] = Counter.builder("sparsemesh.router.expert.tokens")
                    .description("Tokens routed to each expert, summed over layers")
                    .tag("expert", Integer.toString(e))
                    .register(registry);
        }
        this.shardTokens = new Counter[layout.shardCount()];
        for (int s = 0; s < shardTokens.length; s++) {
            shardTokens[s] = Counter.builder("sparsemesh.router.shard.tokens")
                    .description("Tokens routed to each expert shard, summed over layers and experts")
                    .tag("shard", Integer.toString(s))
                    .register(registry);
        }
        this.layerExpertTokens = new AtomicLongArray(Math.max(1, config.numLayers() * experts));
    }

    @Override
    public void onStep(int rows, int sampled, int runningSequences, int waitingRequests, long nanos) {
        stepRows.record(rows);
        stepDuration.record(nanos, TimeUnit.NANOSECONDS);
        running.set(runningSequences);
        waiting.set(waitingRequests);
    }

    @Override
    public void onIdle() {
        running.set(0);
    }

    @Override
    public void onRouted(int layer, ExpertRouting routing) {
        int entries = routing.rows() * routing.expertsPerToken();
        int[] ids = routing.expertIds();
        for (int i = 0; i < entries; i++) {
            int expert = ids[i];
            expertTokens[expert].increment();
            shardTokens[layout.shardOfExpert(expert)].increment();
            layerExpertTokens.incrementAndGet(layer * experts + expert);
        }
    }

    /** Returns tokens routed per layer and expert since the last call, and resets them. */
    public long[][] drainLayerExpertTokens(int layers) {
        long[][] counts = new long[layers][experts];
        for (int layer = 0; layer < layers; layer++) {
            for (int e = 0; e < experts; e++) {
                counts[layer][e] = layerExpertTokens.getAndSet(layer * experts + e, 0);
            }
        }
        return counts;
    }
}
