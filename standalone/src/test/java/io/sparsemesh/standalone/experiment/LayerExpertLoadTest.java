package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layer × expert heatmap from scrapes of the router's per-layer counter, as the router writes
 * it for a model with 3 layers (layer 0 dense) and 4 experts.
 */
class LayerExpertLoadTest {

    /** A scrape before a measured window: warm-up traffic already counted. */
    private static final String BEFORE = """
            # HELP sparsemesh_router_layer_expert_tokens_total Tokens routed to each expert of each MoE layer
            # TYPE sparsemesh_router_layer_expert_tokens_total counter
            sparsemesh_router_layer_expert_tokens_total{expert="0",layer="1"} 5.0
            sparsemesh_router_layer_expert_tokens_total{expert="1",layer="1"} 3.0
            sparsemesh_router_layer_expert_tokens_total{expert="2",layer="1"} 0.0
            sparsemesh_router_layer_expert_tokens_total{expert="3",layer="1"} 0.0
            sparsemesh_router_layer_expert_tokens_total{expert="0",layer="2"} 1.0
            sparsemesh_router_layer_expert_tokens_total{expert="1",layer="2"} 0.0
            sparsemesh_router_layer_expert_tokens_total{expert="2",layer="2"} 7.0
            sparsemesh_router_layer_expert_tokens_total{expert="3",layer="2"} 0.0
            sparsemesh_router_expert_tokens_total{expert="0"} 6.0
            """;

    /** The scrape after the window. */
    private static final String AFTER = """
            sparsemesh_router_layer_expert_tokens_total{expert="0",layer="1"} 15.0
            sparsemesh_router_layer_expert_tokens_total{expert="1",layer="1"} 3.0
            sparsemesh_router_layer_expert_tokens_total{expert="2",layer="1"} 4.0
            sparsemesh_router_layer_expert_tokens_total{expert="3",layer="1"} 1.0
            sparsemesh_router_layer_expert_tokens_total{expert="0",layer="2"} 1.0
            sparsemesh_router_layer_expert_tokens_total{expert="1",layer="2"} 8.0
            sparsemesh_router_layer_expert_tokens_total{expert="2",layer="2"} 7.0
            sparsemesh_router_layer_expert_tokens_total{expert="3",layer="2"} 2.0
            sparsemesh_router_layer_expert_tokens_total{expert="9",layer="2"} 50.0
            sparsemesh_router_expert_tokens_total{expert="0"} 16.0
            """;

    @TempDir
    Path directory;

    @Test
    void windowCountsFromScrapes() {
        double[][] counts = LayerExpertLoad.between(PrometheusText.parse(BEFORE), PrometheusText.parse(AFTER), 3, 4);

        assertArrayEquals(new double[]{0, 0, 0, 0}, counts[0], "the dense layer 0 has no series");
        assertArrayEquals(new double[]{10, 0, 4, 1}, counts[1]);
        assertArrayEquals(new double[]{0, 8, 0, 2}, counts[2], "expert 9 is not among the model's 4 and is skipped");
    }

    @Test
    void meshRunsSummed() {
        double[][] window = LayerExpertLoad.between(PrometheusText.parse(BEFORE), PrometheusText.parse(AFTER), 3, 4);
        List<PointResult> results = List.of(
                result("mesh", window),
                result("mesh", window),
                result("engine", window),
                result("mesh", null));

        long[][] total = LayerExpertLoad.meshTotal(results);

        assertArrayEquals(new long[]{0, 0, 0, 0}, total[0]);
        assertArrayEquals(new long[]{20, 0, 8, 2}, total[1], "two mesh runs; the engine and a run saved without counts are left out");
        assertArrayEquals(new long[]{0, 16, 0, 4}, total[2]);
    }

    @Test
    void noCountsNoHeatmap() {
        assertNull(LayerExpertLoad.meshTotal(List.of(result("mesh", null), result("mesh", new double[3][4]))));
    }

    @Test
    void heatmapChartWritten() throws Exception {
        double[][] window = LayerExpertLoad.between(PrometheusText.parse(BEFORE), PrometheusText.parse(AFTER), 3, 4);
        long[][] total = LayerExpertLoad.meshTotal(List.of(result("mesh", window)));

        List<String> charts = Plots.write(directory, List.of(), total, List.of());

        assertEquals(List.of("expert-load"), charts);
        assertTrue(Files.size(directory.resolve("expert-load.png")) > 0);
        assertTrue(Files.readString(directory.resolve("expert-load.svg")).contains("<svg"), "an SVG document");
    }

    private static PointResult result(String kind, double[][] layerExpertTokens) {
        double[] experts = new double[4];
        if (layerExpertTokens != null) {
            for (double[] layer : layerExpertTokens) {
                Arrays.setAll(experts, e -> experts[e] + layer[e]);
            }
        }
        return new PointResult(kind + "-point", kind, 1, 1, 1, "bf16", false, "model", 1, 16, 16, 0, 8, 0, 1, 100, 1,
                1, 2, 3, 1, 2, 3, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, experts, layerExpertTokens, new double[0], Double.NaN, Double.NaN,
                List.of(), "router", null, null);
    }
}
