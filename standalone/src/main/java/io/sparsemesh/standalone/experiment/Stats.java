package io.sparsemesh.standalone.experiment;

import java.util.Arrays;

/** Summary statistics of measured samples. */
public final class Stats {

    private Stats() {
    }

    /**
     * Returns the {@code p}-th percentile (0..100) of {@code samples} by linear interpolation between
     * the closest ranks (the method of numpy's default {@code percentile}), or NaN when there are none.
     */
    public static double percentile(double[] samples, double p) {
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("percentile must be in 0..100, got " + p);
        }
        if (samples.length == 0) {
            return Double.NaN;
        }
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        double rank = p / 100 * (sorted.length - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }

    public static double median(double[] samples) {
        return percentile(samples, 50);
    }

    public static double mean(double[] samples) {
        return samples.length == 0 ? Double.NaN : Arrays.stream(samples).sum() / samples.length;
    }

    /**
     * Returns the load imbalance of per-expert or per-shard token counts: the largest count divided
     * by the mean (1 is perfectly balanced), or NaN when nothing was routed.
     */
    public static double imbalance(double[] counts) {
        double mean = mean(counts);
        if (!(mean > 0)) {
            return Double.NaN;
        }
        return Arrays.stream(counts).max().orElseThrow() / mean;
    }

    /** Returns the spread of repetitions as max minus min, 0 for a single sample. */
    public static double range(double[] samples) {
        if (samples.length == 0) {
            return Double.NaN;
        }
        return Arrays.stream(samples).max().orElseThrow() - Arrays.stream(samples).min().orElseThrow();
    }
}
