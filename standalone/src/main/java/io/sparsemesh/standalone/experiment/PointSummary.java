package io.sparsemesh.standalone.experiment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The repetitions of one point reduced to medians and spreads (max − min), with throughput as a
 * ratio to the engine baseline of the same load and request shape.
 *
 * @param engineRatio median output tokens/s over the engine baseline's, NaN without a baseline
 */
public record PointSummary(PointResult first, int repetitions, double tokensPerSecond, double tokensPerSecondSpread,
                           double requestsPerSecond, double ttftP50, double ttftP99, double tpotP50, double tpotP99,
                           double tpotP99Spread, double hopMs, double hopOverheadMs, double expertImbalance,
                           double shardImbalance, double engineRatio, String bottleneck) {

    /** Reports points engine first, then by topology and index variant, then by request shape and load. */
    private static final Comparator<PointResult> ORDER = Comparator.comparing((PointResult r) -> !r.kind().equals("engine"))
            .thenComparingInt(PointResult::shards).thenComparingInt(PointResult::replicas)
            .thenComparingInt(PointResult::attentionReplicas).thenComparing(PointResult::wireDtype)
            .thenComparing(PointResult::pingPong).thenComparing(PointResult::indexVariant).thenComparingInt(PointResult::promptTokens)
            .thenComparingInt(PointResult::outputTokens).thenComparingDouble(PointResult::load);

    /** Groups {@code results} by point, in the order of {@link #ORDER}. */
    public static List<PointSummary> of(List<PointResult> results) {
        List<PointResult> sorted = new ArrayList<>(results);
        sorted.sort(ORDER);
        Map<String, List<PointResult>> byPoint = new LinkedHashMap<>();
        for (PointResult result : sorted) {
            byPoint.computeIfAbsent(result.pointId(), id -> new ArrayList<>()).add(result);
        }
        Map<String, Double> engineTokens = new LinkedHashMap<>();
        for (List<PointResult> repetitions : byPoint.values()) {
            PointResult first = repetitions.getFirst();
            if (first.kind().equals("engine")) {
                engineTokens.put(shapeKey(first), median(repetitions, PointResult::outputTokensPerSecond));
            }
        }
        List<PointSummary> summaries = new ArrayList<>();
        for (List<PointResult> repetitions : byPoint.values()) {
            PointResult first = repetitions.getFirst();
            double tokens = median(repetitions, PointResult::outputTokensPerSecond);
            Double engine = engineTokens.get(shapeKey(first));
            summaries.add(new PointSummary(first, repetitions.size(), tokens,
                    spread(repetitions, PointResult::outputTokensPerSecond),
                    median(repetitions, PointResult::requestsPerSecond),
                    median(repetitions, PointResult::ttftP50), median(repetitions, PointResult::ttftP99),
                    median(repetitions, PointResult::tpotP50), median(repetitions, PointResult::tpotP99),
                    spread(repetitions, PointResult::tpotP99),
                    median(repetitions, PointResult::hopMs), median(repetitions, PointResult::hopOverheadMs),
                    median(repetitions, PointResult::expertImbalance), median(repetitions, PointResult::shardImbalance),
                    engine == null || engine == 0 ? Double.NaN : tokens / engine, mostCommonBottleneck(repetitions)));
        }
        return summaries;
    }

    private static String shapeKey(PointResult result) {
        return result.load() + "/" + result.promptTokens() + "/" + result.outputTokens();
    }

    private static double median(List<PointResult> results, ToDoubleFunction<PointResult> measure) {
        return Stats.median(results.stream().mapToDouble(measure).filter(v -> !Double.isNaN(v)).toArray());
    }

    private static double spread(List<PointResult> results, ToDoubleFunction<PointResult> measure) {
        return Stats.range(results.stream().mapToDouble(measure).filter(v -> !Double.isNaN(v)).toArray());
    }

    private static String mostCommonBottleneck(List<PointResult> results) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (PointResult result : results) {
            counts.merge(result.bottleneck(), 1, Integer::sum);
        }
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
    }
}
