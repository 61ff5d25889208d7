package io.sparsemesh.core.moe;

import io.sparsemesh.core.config.MoeConfig;
import io.sparsemesh.core.config.ScoringFunction;
import io.sparsemesh.core.testing.HeapTensorStore;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Per-row MoE in double precision from the raw weights, with every top-k done by a full sort. */
final class NaiveMoe {

    private final MoeConfig moe;
    private final HeapTensorStore store;
    private final String prefix;
    private final int hidden;

    NaiveMoe(MoeConfig moe, HeapTensorStore store, int layer, int hidden) {
        this.moe = moe;
        this.store = store;
        this.prefix = "model.layers." + layer + ".mlp.";
        this.hidden = hidden;
    }

    /** The chosen experts of one row, best first, and their final weights. */
    record Choice(int[] experts, double[] weights) {
    }

    Choice route(float[] x) {
        int experts = moe.numRoutedExperts();
        float[] gate = store.floats(prefix + "gate.weight");
        float[] bias = store.contains(prefix + "gate.e_score_correction_bias")
                ? store.floats(prefix + "gate.e_score_correction_bias") : new float[experts];

        double[] scores = new double[experts];
        for (int e = 0; e < experts; e++) {
            for (int c = 0; c < hidden; c++) {
                scores[e] += gate[e * hidden + c] * x[c];
            }
        }
        if (moe.scoring() == ScoringFunction.SIGMOID) {
            scores = Arrays.stream(scores).map(v -> 1 / (1 + Math.exp(-v))).toArray();
        } else {
            double max = Arrays.stream(scores).max().orElseThrow();
            double[] exps = Arrays.stream(scores).map(v -> Math.exp(v - max)).toArray();
            double sum = Arrays.stream(exps).sum();
            scores = Arrays.stream(exps).map(v -> v / sum).toArray();
        }
        double[] choice = new double[experts];
        for (int e = 0; e < experts; e++) {
            choice[e] = scores[e] + bias[e];
        }

        // groups ranked by their score, the best topk_group kept
        int groups = Math.max(moe.nGroup(), 1);
        int size = experts / groups;
        double[] groupScores = new double[groups];
        for (int g = 0; g < groups; g++) {
            double[] members = Arrays.copyOfRange(choice, g * size, (g + 1) * size);
            Arrays.sort(members);
            groupScores[g] = moe.scoring() == ScoringFunction.SIGMOID && size >= 2
                    ? members[size - 1] + members[size - 2] : members[size - 1];
        }
        int[] keptGroups = bestFirst(groupScores, Math.min(moe.topkGroup() < 1 ? groups : moe.topkGroup(), groups));
        boolean[] eligible = new boolean[experts];
        for (int g : keptGroups) {
            Arrays.fill(eligible, g * size, (g + 1) * size, true);
        }

        // experts ranked by biased score among the eligible ones
        double[] masked = new double[experts];
        for (int e = 0; e < experts; e++) {
            masked[e] = eligible[e] ? choice[e] : Double.NEGATIVE_INFINITY;
        }
        int[] chosen = bestFirst(masked, moe.numExpertsPerToken());
        double[] weights = Arrays.stream(chosen).mapToDouble(e -> 0).toArray();
        double sum = 0;
        for (int i = 0; i < chosen.length; i++) {
            weights[i] = scores[chosen[i]];
            sum += weights[i];
        }
        for (int i = 0; i < chosen.length; i++) {
            weights[i] = (moe.normTopkProb() ? weights[i] / sum : weights[i]) * moe.routedScalingFactor();
        }
        return new Choice(chosen, weights);
    }

    /** SwiGLU of {@code mlp.<name>.} on one row. */
    double[] mlp(String name, float[] x) {
        float[] gate = store.floats(prefix + name + "gate_proj.weight");
        float[] up = store.floats(prefix + name + "up_proj.weight");
        float[] down = store.floats(prefix + name + "down_proj.weight");
        int width = gate.length / hidden;
        double[] activated = new double[width];
        for (int i = 0; i < width; i++) {
            double g = 0;
            double u = 0;
            for (int c = 0; c < hidden; c++) {
                g += gate[i * hidden + c] * x[c];
                u += up[i * hidden + c] * x[c];
            }
            activated[i] = g / (1 + Math.exp(-g)) * u;
        }
        double[] out = new double[hidden];
        for (int d = 0; d < hidden; d++) {
            for (int i = 0; i < width; i++) {
                out[d] += down[d * width + i] * activated[i];
            }
        }
        return out;
    }

    /** Indices of the {@code k} largest values, best first, ties to the lower index. */
    static int[] bestFirst(double[] values, int k) {
        return IntStream.range(0, values.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -values[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }
}
