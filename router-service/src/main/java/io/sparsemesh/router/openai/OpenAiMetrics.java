package io.sparsemesh.router.openai;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Metrics of the OpenAI-compatible API: {@code sparsemesh_router_openai_requests_total{endpoint,status}},
 * {@code sparsemesh_router_openai_client_disconnects_total} (streams whose client went away before
 * the end) and {@code sparsemesh_router_openai_generations_cancelled_total} (generations that ended
 * cancelled, because their client went away or a sibling choice failed).
 */
public final class OpenAiMetrics {

    private final MeterRegistry registry;
    private final Counter disconnects;
    private final Counter cancelled;

    public OpenAiMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.disconnects = Counter.builder("sparsemesh.router.openai.client.disconnects")
                .description("Streaming responses whose client disconnected before the end")
                .register(registry);
        this.cancelled = Counter.builder("sparsemesh.router.openai.generations.cancelled")
                .description("Generations cancelled because their client disconnected or a sibling choice failed")
                .register(registry);
    }

    void request(String endpoint, int status) {
        registry.counter("sparsemesh.router.openai.requests", "endpoint", endpoint, "status", Integer.toString(status))
                .increment();
    }

    void clientDisconnected() {
        disconnects.increment();
    }

    void generationCancelled() {
        cancelled.increment();
    }

    public double clientDisconnects() {
        return disconnects.count();
    }

    public double generationsCancelled() {
        return cancelled.count();
    }
}
