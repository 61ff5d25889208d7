package io.sparsemesh.core.moe;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.MoeConfig;
import io.sparsemesh.core.config.ScoringFunction;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;

/**
 * The router of a DeepSeek-style MoE layer ({@code mlp.gate}). Per row it scores every routed
 * expert with a sigmoid or softmax of {@code weight · x}, adds {@code e_score_correction_bias}
 * to choose (never to weigh), limits the choice to the {@code topk_group} best of
 * {@code n_group} expert groups, takes the {@code num_experts_per_tok} best experts, and weighs
 * them by their unbiased scores, renormalised to sum to one when {@code norm_topk_prob}, times
 * {@code routed_scaling_factor}.
 *
 * <p>A group's score is the sum of its two best biased scores with sigmoid scoring (DeepSeek-V3's
 * {@code noaux_tc}) and its best score with softmax scoring (DeepSeek-V2's
 * {@code group_limited_greedy}). Among equal scores the lower group or expert id wins.
 * Experts outside the chosen groups are excluded outright, as DeepSeek's code and the
 * transformers GLM-5 code do (transformers' DeepSeek-V3 sets their scores to 0 instead, which
 * differs only when fewer than {@code k} eligible experts have a positive biased score).
 */
public final class MoeGate {

    private enum Buffer { SCORES, CHOICE, GROUP_SCORES, ELIGIBLE }

    private final Matrix weight;         // [numRoutedExperts, hidden]
    private final float[] correctionBias; // [numRoutedExperts], zeros when the checkpoint has none
    private final MoeConfig moe;

    public MoeGate(Matrix weight, float[] correctionBias, MoeConfig moe) {
        int experts = moe.numRoutedExperts();
        if (weight.rows() != experts || correctionBias.length != experts) {
            throw new IllegalArgumentException("gate for " + experts + " experts got a " + weight.rows() + "x"
                    + weight.cols() + " weight and " + correctionBias.length + " bias values");
        }
        int groups = Math.max(moe.nGroup(), 1);
        if (experts % groups != 0 || moe.topkGroup() > groups
                || moe.numExpertsPerToken() > experts / groups * Math.min(Math.max(moe.topkGroup(), 1), groups)) {
            throw new IllegalArgumentException("invalid expert groups: " + experts + " experts in " + groups
                    + " groups, " + moe.topkGroup() + " groups per token, " + moe.numExpertsPerToken()
                    + " experts per token");
        }
        this.weight = weight;
        this.correctionBias = correctionBias;
        this.moe = moe;
    }

    /** Loads {@code model.layers.<layer>.mlp.gate.weight} and, when present, its {@code e_score_correction_bias}. */
    public static MoeGate load(TensorStore store, ModelConfig config, int layer) {
        MoeConfig moe = config.moe();
        String prefix = "model.layers." + layer + ".mlp.gate.";
        float[] bias = store.contains(prefix + "e_score_correction_bias")
                ? store.vector(prefix + "e_score_correction_bias", moe.numRoutedExperts())
                : new float[moe.numRoutedExperts()];
        return new MoeGate(store.matrix(prefix + "weight", moe.numRoutedExperts(), config.hiddenSize()), bias, moe);
    }

    public int expertsPerToken() {
        return moe.numExpertsPerToken();
    }

    public long weightBytes() {
        return weight.byteSize() + 4L * correctionBias.length;
    }

    /** Routes {@code routing.rows()} rows of {@code input} ({@code rows × hidden}), writing into {@code routing}'s arrays. */
    public void route(float[] input, ExpertRouting routing, Workspace workspace) {
        int rows = routing.rows();
        int experts = moe.numRoutedExperts();
        if (routing.expertsPerToken() != moe.numExpertsPerToken()) {
            throw new IllegalArgumentException("invalid routing: it has room for " + routing.expertsPerToken()
                    + " experts per token but this gate picks " + moe.numExpertsPerToken());
        }
        float[] scores = workspace.floats(Buffer.SCORES, rows * experts);

        // router logits in float, then each row on its own
        weight.matmul(input, scores, rows);
        for (int row = 0; row < rows; row++) {
            routeRow(scores, row * experts, routing, row, workspace);
        }
    }

    private void routeRow(float[] scores, int offset, ExpertRouting routing, int row, Workspace workspace) {
        int experts = moe.numRoutedExperts();
        int k = moe.numExpertsPerToken();
        float[] choice = workspace.floats(Buffer.CHOICE, experts);

        // expert scores, and the biased copy used only to choose
        score(scores, offset);
        for (int e = 0; e < experts; e++) {
            choice[e] = scores[offset + e] + correctionBias[e];
        }

        // keep the best groups, then the best experts inside them
        int[] eligibleExperts = workspace.ints(Buffer.ELIGIBLE, experts);
        markEligible(choice, eligibleExperts, workspace);
        int base = row * k;
        for (int slot = 0; slot < k; slot++) {
            int best = -1;
            for (int e = 0; e < experts; e++) {
                if (eligibleExperts[e] == 1 && (best < 0 || choice[e] > choice[best])) {
                    best = e;
                }
            }
            eligibleExperts[best] = 0;
            routing.expertIds()[base + slot] = best;
            routing.weights()[base + slot] = scores[offset + best];
        }

        // weights: unbiased scores, renormalised when asked, times the routed scaling factor
        normalise(routing.weights(), base, k);
    }

    private void score(float[] scores, int offset) {
        int experts = moe.numRoutedExperts();
        if (moe.scoring() == ScoringFunction.SIGMOID) {
            for (int e = 0; e < experts; e++) {
                scores[offset + e] = (float) (1.0 / (1.0 + Math.exp(-scores[offset + e])));
            }
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            max = Math.max(max, scores[offset + e]);
        }
        float sum = 0f;
        for (int e = 0; e < experts; e++) {
            scores[offset + e] = (float) Math.exp(scores[offset + e] - max);
            sum += scores[offset + e];
        }
        for (int e = 0; e < experts; e++) {
            scores[offset + e] /= sum;
        }
    }

    /** Sets {@code eligible[e]} to 1 for the experts of the {@code topk_group} best groups and 0 elsewhere. */
    private void markEligible(float[] choice, int[] eligible, Workspace workspace) {
        int experts = moe.numRoutedExperts();
        int groups = Math.max(moe.nGroup(), 1);
        int groupSize = experts / groups;
        if (groups == 1 || moe.topkGroup() >= groups) {
            Arrays.fill(eligible, 0, experts, 1);
            return;
        }

        float[] groupScores = workspace.floats(Buffer.GROUP_SCORES, groups);
        for (int g = 0; g < groups; g++) {
            groupScores[g] = groupScore(choice, g * groupSize, groupSize);
        }
        Arrays.fill(eligible, 0, experts, 0);
        for (int picked = 0; picked < moe.topkGroup(); picked++) {
            int best = -1;
            for (int g = 0; g < groups; g++) {
                if (eligible[g * groupSize] == 0 && (best < 0 || groupScores[g] > groupScores[best])) {
                    best = g;
                }
            }
            Arrays.fill(eligible, best * groupSize, (best + 1) * groupSize, 1);
        }
    }

    /** Returns the sum of the two best biased scores of a group with sigmoid scoring, its best score with softmax. */
    private float groupScore(float[] choice, int start, int size) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (int e = start; e < start + size; e++) {
            if (choice[e] > first) {
                second = first;
                first = choice[e];
            } else if (choice[e] > second) {
                second = choice[e];
            }
        }
        if (moe.scoring() == ScoringFunction.SOFTMAX || size < 2) {
            return first;
        }
        return first + second;
    }

    private void normalise(float[] weights, int base, int k) {
        if (moe.normTopkProb()) {
            float sum = 0f;
            for (int slot = 0; slot < k; slot++) {
                sum += weights[base + slot];
            }
            float denominator = sum + 1e-20f; // transformers' guard against an all-zero row
            for (int slot = 0; slot < k; slot++) {
                weights[base + slot] /= denominator;
            }
        }
        for (int slot = 0; slot < k; slot++) {
            weights[base + slot] *= (float) moe.routedScalingFactor();
        }
    }
}
