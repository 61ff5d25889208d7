package io.sparsemesh.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
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
 * once per expert). {@code sparsemesh_router_layer_expert_tokens_total{layer,expert}} splits the
 * expert counts by MoE layer for expert-load heatmaps, and dense layers have no series. That is one
 * series per MoE layer and routed expert (about 15,000 for DeepSeek-V3), which Spring Boot's
 * {@code management.metrics.enable.sparsemesh.router.layer.expert.tokens=false} turns off. The same
 * per-layer counts feed the expert-load log through {@link #drainLayerExpertTokens}.
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
    private final AtomicLongArray layerExpertTokens; // [layer × expert], since the start
    private final long[] drainedLayerExpertTokens;   // [layer × expert], totals at the last drain

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
        this.drainedLayerExpertTokens = new long[layerExpertTokens.length()];
        for (int layer = 0; layer < config.numLayers() && experts > 0; layer++) {
            if (!config.isMoeLayer(layer)) {
                continue;
            }
            for (int e = 0; e < experts; e++) {
                int index = layer * experts + e;
                FunctionCounter.builder("sparsemesh.router.layer.expert.tokens", layerExpertTokens, t -> t.get(index))
                        .description("Tokens routed to each expert of each MoE layer")
                        .tag("layer", Integer.toString(layer))
                        .tag("expert", Integer.toString(e))
                        .register(registry);
            }
        }
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

    /**
     * Returns tokens routed per layer and expert since the last call (since the start for the first
     * call). The Prometheus counters keep counting from the start.
     */
    public synchronized long[][] drainLayerExpertTokens(int layers) {
        long[][] counts = new long[layers][experts];
        for (int layer = 0; layer < layers; layer++) {
            for (int e = 0; e < experts; e++) {
                int index = layer * experts + e;
                long total = layerExpertTokens.get(index);
                counts[layer][e] = total - drainedLayerExpertTokens[index];
                drainedLayerExpertTokens[index] = total;
            }
        }
        return counts;
    }
}
