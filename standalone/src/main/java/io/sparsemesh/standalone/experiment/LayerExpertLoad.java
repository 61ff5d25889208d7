package io.sparsemesh.standalone.experiment;

import java.util.List;

/**
 * Tokens routed to each expert of each layer, from the router's
 * {@code sparsemesh_router_layer_expert_tokens_total{layer,expert}} counter: per measured window,
 * and summed over the runs of a sweep for the report's heatmap.
 */
final class LayerExpertLoad {

    static final String METRIC = "sparsemesh_router_layer_expert_tokens_total";

    private LayerExpertLoad() {
    }

    /** Returns the tokens routed between two scrapes of the router, [layer][expert]; dense layers stay 0. */
    static double[][] between(PrometheusText before, PrometheusText after, int layers, int experts) {
        double[][] start = before.byIndices(METRIC, "layer", layers, "expert", experts);
        double[][] end = after.byIndices(METRIC, "layer", layers, "expert", experts);
        for (int layer = 0; layer < layers; layer++) {
            for (int expert = 0; expert < experts; expert++) {
                end[layer][expert] -= start[layer][expert];
            }
        }
        return end;
    }

    /**
     * Returns the tokens of every mesh run summed, [layer][expert], or null when no mesh run
     * counted any (a dense model, or results saved before the router exported the counter).
     */
    static long[][] meshTotal(List<PointResult> results) {
        long[][] total = null;
        long sum = 0;
        for (PointResult result : results) {
            double[][] counts = result.layerExpertTokens();
            if (!result.kind().equals("mesh") || counts == null || counts.length == 0 || counts[0].length == 0) {
                continue;
            }
            if (total == null) {
                total = new long[counts.length][counts[0].length];
            }
            for (int layer = 0; layer < counts.length; layer++) {
                for (int expert = 0; expert < counts[layer].length; expert++) {
                    total[layer][expert] += Math.round(counts[layer][expert]);
                    sum += Math.round(counts[layer][expert]);
                }
            }
        }
        return sum > 0 ? total : null;
    }
}
