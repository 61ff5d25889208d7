package io.sparsemesh.router;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertRouting;

import java.util.concurrent.TimeUnit;

/**
 * Times every hop the router makes per layer: {@code sparsemesh_router_hop_duration_seconds} with
 * tags {@code component} ({@code attention}, {@code experts}, {@code dense}) and {@code layer}.
 * Wraps the backends, so the same timers cover local and remote ones; for remote backends a hop
 * is the round trip, including the service's compute.
 */
final class HopTimers {

    private HopTimers() {
    }

    static AttentionBackend timed(AttentionBackend backend, MeterRegistry registry, int layers) {
        Timer[] timers = timers(registry, "attention", layers);
        return new AttentionBackend() {
            @Override
            public AttentionStep beginStep(long[] sequenceIds, int[] positions, int rows) {
                AttentionStep step = backend.beginStep(sequenceIds, positions, rows);
                return (layer, input, output) -> {
                    long start = System.nanoTime();
                    step.forward(layer, input, output);
                    timers[layer].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                };
            }

            @Override
            public void release(long sequenceId) {
                backend.release(sequenceId);
            }

            @Override
            public void close() {
                backend.close();
            }
        };
    }

    static ExpertBackend timed(ExpertBackend backend, MeterRegistry registry, int layers) {
        Timer[] routed = timers(registry, "experts", layers);
        Timer[] dense = timers(registry, "dense", layers);
        return new ExpertBackend() {
            @Override
            public void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output) {
                long start = System.nanoTime();
                backend.forwardRouted(layer, input, rows, routing, output);
                routed[layer].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }

            @Override
            public void forwardDense(int layer, float[] input, int rows, float[] output) {
                long start = System.nanoTime();
                backend.forwardDense(layer, input, rows, output);
                dense[layer].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }

            @Override
            public void close() {
                backend.close();
            }
        };
    }

    private static Timer[] timers(MeterRegistry registry, String component, int layers) {
        Timer[] timers = new Timer[layers];
        for (int layer = 0; layer < layers; layer++) {
            timers[layer] = Timer.builder("sparsemesh.router.hop.duration")
                    .description("Time of one layer's call to attention, routed experts or a dense FFN, per step")
                    .tag("component", component)
                    .tag("layer", Integer.toString(layer))
                    .register(registry);
        }
        return timers;
    }
}
