package io.sparsemesh.standalone.experiment;

import java.util.List;

/**
 * Measures of one repetition of one point. Times are in milliseconds, NaN where the point has no
 * such measure (e.g. indexer counts for a model without an indexer, hops for the engine).
 *
 * @param pingPong         the router's {@code sparsemesh.router.ping-pong} setting
 * @param stepMs           mean router step over every layer
 * @param hopMs            {@code stepMs / (2 × layers)}: the mean cost of one router↔service hop
 *                         including the service's compute
 * @param attentionHopMs   mean round trip of one attention hop, from the router's hop timer
 * @param expertHopMs      mean round trip of one expert (routed or dense FFN) hop, from the router's hop timer
 * @param attentionCallMs  mean compute time of one attention call, measured in the attention service
 * @param expertCallMs     mean compute time of one expert call, measured in the expert service
 * @param hopOverheadMs    mean of the two hop round trips minus the services' compute per call: transport
 *                         and codecs per hop; without the router's hop timers,
 *                         {@code (stepMs − layers × (attentionCallMs + expertCallMs)) / (2 × layers)}
 * @param kvBytesPerToken  attention cache heap per cached token position, the largest value sampled
 * @param expertTokens     tokens routed to each expert (router counter, summed over layers)
 * @param layerExpertTokens tokens routed to each expert of each layer, [layer][expert], from the
 *                         router's per-layer counter; null in results saved before it existed
 * @param shardTokens      row-expert pairs computed by each expert shard, summed over its replicas
 * @param bottleneck       component with the highest busy fraction (CPU seconds over wall seconds)
 * @param loadAverage      the machine's 1-minute load average at the end of the measured window, from
 *                         {@code /proc/loadavg}; null where unknown and in results saved before it existed
 */
public record PointResult(String pointId, String kind, int shards, int replicas, int attentionReplicas, String wireDtype,
                          boolean pingPong, String indexVariant, double load, int promptTokens, int outputTokens, int repetition,
                          int requests, int errors, double wallSeconds, double outputTokensPerSecond,
                          double requestsPerSecond, double ttftP50, double ttftP90, double ttftP99, double tpotP50,
                          double tpotP90, double tpotP99, double stepMs, double hopMs, double attentionHopMs, double expertHopMs,
                          double attentionCallMs,
                          double expertCallMs, double hopOverheadMs, double indexerRuns, double indexerReuses,
                          double kvBytesPerToken, double[] expertTokens, double[][] layerExpertTokens,
                          double[] shardTokens, double expertImbalance,
                          double shardImbalance, List<ComponentUsage> components, String bottleneck,
                          Double loadAverage, String firstError) {

    /**
     * CPU and memory of one service process over the measured window.
     *
     * @param busy CPU seconds divided by the window's wall seconds (1.0 is one core fully busy)
     */
    public record ComponentUsage(String name, double cpuSeconds, double busy, long residentBytes) {
    }
}
