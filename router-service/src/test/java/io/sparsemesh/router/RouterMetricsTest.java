package io.sparsemesh.router;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sparsemesh.core.config.HuggingFaceConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ShardLayout;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Routing counters of deepseek_v3_tiny (4 layers, layer 0 dense, 8 routed experts, 2 per token) in
 * the Prometheus text format, and the per-layer drain that the expert-load log reads.
 */
class RouterMetricsTest {

    private static final ModelConfig CONFIG = HuggingFaceConfigReader.read(
            RouterGenerationGrpcTest.repositoryRoot().resolve("testdata/hf-tiny/deepseek_v3_tiny"));

    @Test
    void layerExpertCountsInPrometheusText() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RouterMetrics metrics = new RouterMetrics(registry, CONFIG, new ShardLayout(2));

        // Three rows on layer 1 (expert 1 three times) and one row on layer 3.
        metrics.onRouted(1, new ExpertRouting(3, 2, new int[] {0, 1, 1, 2, 7, 1}, new float[6]));
        metrics.onRouted(3, new ExpertRouting(1, 2, new int[] {4, 1}, new float[2]));

        String text = registry.scrape();
        assertTrue(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"1\",layer=\"1\"} 3.0"), text);
        assertTrue(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"7\",layer=\"1\"} 1.0"), text);
        assertTrue(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"1\",layer=\"3\"} 1.0"), text);
        assertTrue(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"5\",layer=\"2\"} 0.0"),
                "every expert of an MoE layer has a series from the start");
        assertTrue(text.contains("sparsemesh_router_expert_tokens_total{expert=\"1\"} 4.0"), text);
        assertFalse(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"0\",layer=\"0\"}"),
                "the dense layer 0 has no series");
        assertEquals(3 * 8, text.lines().filter(l -> l.startsWith("sparsemesh_router_layer_expert_tokens_total{")).count(),
                "one series per MoE layer and expert");
    }

    /** The drain returns each interval's counts while the Prometheus counters keep the totals. */
    @Test
    void drainLeavesCountersRunning() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RouterMetrics metrics = new RouterMetrics(registry, CONFIG, new ShardLayout(1));

        metrics.onRouted(2, new ExpertRouting(1, 2, new int[] {3, 6}, new float[2]));
        assertArrayEquals(new long[] {0, 0, 0, 1, 0, 0, 1, 0}, metrics.drainLayerExpertTokens(4)[2]);
        assertArrayEquals(new long[8], metrics.drainLayerExpertTokens(4)[2], "nothing routed since the last drain");

        metrics.onRouted(2, new ExpertRouting(1, 2, new int[] {3, 5}, new float[2]));
        assertArrayEquals(new long[] {0, 0, 0, 1, 0, 1, 0, 0}, metrics.drainLayerExpertTokens(4)[2]);
        String text = registry.scrape();
        assertTrue(text.contains("sparsemesh_router_layer_expert_tokens_total{expert=\"3\",layer=\"2\"} 2.0"), text);
    }

    @Test
    void denseModelHasNoLayerSeries() throws Exception {
        Path stories = RouterGenerationGrpcTest.repositoryRoot().resolve("models/stories260K/stories260K.gguf");
        assertTrue(Files.isRegularFile(stories));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (var checkpoint = io.sparsemesh.core.checkpoint.Checkpoints.open(stories, null)) {
            new RouterMetrics(registry, checkpoint.config(), new ShardLayout(1));
        }
        assertFalse(registry.scrape().contains("sparsemesh_router_layer_expert_tokens_total"));
    }
}
