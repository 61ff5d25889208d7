package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsTest {

    /** Values computed by hand with numpy's linear method: rank = p/100 × (n − 1). */
    @Test
    void percentilesInterpolate() {
        double[] samples = {15, 20, 35, 40, 50};
        assertEquals(35, Stats.percentile(samples, 50), 1e-12);
        assertEquals(46, Stats.percentile(samples, 90), 1e-12);     // rank 3.6: 40 + 0.6 × 10
        assertEquals(49.6, Stats.percentile(samples, 99), 1e-12);   // rank 3.96
        assertEquals(15, Stats.percentile(samples, 0), 1e-12);
        assertEquals(50, Stats.percentile(samples, 100), 1e-12);
    }

    @Test
    void percentileUnsortedSingle() {
        assertEquals(7, Stats.percentile(new double[]{7}, 99), 1e-12);
        assertEquals(2.5, Stats.median(new double[]{4, 1, 3, 2}), 1e-12);
        assertTrue(Double.isNaN(Stats.percentile(new double[0], 50)));
    }

    @Test
    void imbalanceMaxOverMean() {
        assertEquals(1.0, Stats.imbalance(new double[]{5, 5, 5, 5}), 1e-12);
        assertEquals(2.0, Stats.imbalance(new double[]{8, 2, 2, 4}), 1e-12);
        assertTrue(Double.isNaN(Stats.imbalance(new double[]{0, 0})));
        assertTrue(Double.isNaN(Stats.imbalance(new double[0])));
    }

    /** Recorded request timings: TTFT and TPOT from start, first token and end times. */
    @Test
    void requestSampleLatencies() {
        RequestSample sample = new RequestSample(1_000_000, 5_000_000, 23_000_000, 10, null);
        assertEquals(4.0, sample.ttftMillis(), 1e-12);
        assertEquals(2.0, sample.tpotMillis(), 1e-12);   // 18 ms over 9 tokens after the first
    }

    @Test
    void summaryMediansAndRatio() {
        PointResult engine1 = result("engine-l1", "engine", 0, 100);
        PointResult engine2 = result("engine-l1", "engine", 1, 120);
        PointResult mesh1 = result("mesh-l1", "mesh", 0, 50);
        PointResult mesh2 = result("mesh-l1", "mesh", 1, 60);
        PointResult mesh3 = result("mesh-l1", "mesh", 2, 70);
        List<PointSummary> summaries = PointSummary.of(List.of(engine1, engine2, mesh1, mesh2, mesh3));
        assertEquals(2, summaries.size());
        PointSummary engine = summaries.get(0);
        PointSummary mesh = summaries.get(1);
        assertEquals(110, engine.tokensPerSecond(), 1e-12);
        assertEquals(20, engine.tokensPerSecondSpread(), 1e-12);
        assertEquals(60, mesh.tokensPerSecond(), 1e-12);
        assertEquals(3, mesh.repetitions());
        assertEquals(60.0 / 110, mesh.engineRatio(), 1e-12);
    }

    @Test
    void prometheusTextSums() {
        PrometheusText text = PrometheusText.parse("""
                # HELP sparsemesh_router_expert_tokens_total Tokens routed
                # TYPE sparsemesh_router_expert_tokens_total counter
                sparsemesh_router_expert_tokens_total{expert="0"} 12.0
                sparsemesh_router_expert_tokens_total{expert="3"} 4.0
                sparsemesh_router_step_duration_seconds_count 7
                sparsemesh_router_step_duration_seconds_sum 0.5
                """);
        assertEquals(16, text.sum("sparsemesh_router_expert_tokens_total"), 1e-12);
        assertEquals(7, text.sum("sparsemesh_router_step_duration_seconds_count"), 1e-12);
        double[] byExpert = text.byIndex("sparsemesh_router_expert_tokens_total", "expert", 4);
        assertEquals(12, byExpert[0], 1e-12);
        assertEquals(0, byExpert[1], 1e-12);
        assertEquals(4, byExpert[3], 1e-12);
    }

    private static PointResult result(String id, String kind, int repetition, double tokensPerSecond) {
        return new PointResult(id, kind, 1, 1, 1, "bf16", false, "model", 1, 16, 16, repetition, 8, 0, 1, tokensPerSecond, 1,
                1, 2, 3, 1, 2, 3, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, new double[0], null, new double[0], Double.NaN, Double.NaN, List.of(), "router", null, null);
    }
}
