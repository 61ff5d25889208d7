package io.sparsemesh.core.moe;

import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.ScoringFunction;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.core.testing.HeapTensorStore;
import io.sparsemesh.core.testing.RandomWeights;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MoeGateTest {

    private static final int HIDDEN = MoeTestModels.HIDDEN;
    private static final String GATE = "model.layers.1.mlp.gate.";

    @Test
    void sigmoidGroupLimitedMatchesNaive() {
        ModelConfig config = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true);

        assertMatchesNaive(config, new RandomWeights(51).moe(config, 1).store(), 50);
    }

    @Test
    void softmaxWithoutGroupsMatchesNaive() {
        ModelConfig config = MoeTestModels.config(ScoringFunction.SOFTMAX, 1, 1, false);

        assertMatchesNaive(config, new RandomWeights(52).moe(config, 1).store(), 50);
    }

    @Test
    void softmaxGroupLimitedMatchesNaive() {
        ModelConfig config = MoeTestModels.config(ScoringFunction.SOFTMAX, 2, 1, true);

        assertMatchesNaive(config, new RandomWeights(53).moe(config, 1).store(), 50);
    }

    @Test
    void groupLimitExcludesBestExpertOutsideChosenGroups() {
        // sigmoid scores per group: {0.9, 0.1}, {0.6, 0.6}, {0.55, 0.55}, {0.2, 0.2}; top-2 sums 1.0, 1.2, 1.1, 0.4
        double[] probabilities = {0.9, 0.1, 0.6, 0.6, 0.55, 0.55, 0.2, 0.2};
        ModelConfig limited = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true);
        ModelConfig unlimited = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 4, true);
        HeapTensorStore store = gateWithLogits(probabilities);

        ExpertRouting groupLimited = route(limited, store, unitRow());
        ExpertRouting free = route(unlimited, store, unitRow());

        assertArrayEquals(new int[] {2, 3}, Arrays.copyOf(groupLimited.expertIds(), 2));
        assertArrayEquals(new float[] {1.25f, 1.25f}, Arrays.copyOf(groupLimited.weights(), 2), 1e-6f);
        assertArrayEquals(new int[] {0, 2}, Arrays.copyOf(free.expertIds(), 2));
        assertArrayEquals(new float[] {2.5f * 0.9f / 1.5f, 2.5f * 0.6f / 1.5f}, Arrays.copyOf(free.weights(), 2), 1e-6f);
    }

    @Test
    void tiesGoToLowerGroupsAndExperts() {
        double[] equal = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
        HeapTensorStore store = gateWithLogits(equal);

        ExpertRouting grouped = route(MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true), store, unitRow());
        ExpertRouting ungrouped = route(MoeTestModels.config(ScoringFunction.SIGMOID, 1, 1, true), store, unitRow());

        assertArrayEquals(new int[] {0, 1}, Arrays.copyOf(grouped.expertIds(), 2));
        assertArrayEquals(new int[] {0, 1}, Arrays.copyOf(ungrouped.expertIds(), 2));
        assertArrayEquals(new float[] {1.25f, 1.25f}, Arrays.copyOf(grouped.weights(), 2), 1e-6f);
    }

    @Test
    void tiedGroupsGoToLowerGroup() {
        // groups 1 and 3 tie at a top-2 sum of 1.0, so group 1 wins and its experts 2 and 3 are chosen
        double[] probabilities = {0.1, 0.1, 0.7, 0.3, 0.2, 0.2, 0.3, 0.7};
        HeapTensorStore store = gateWithLogits(probabilities);

        ExpertRouting routing = route(MoeTestModels.config(ScoringFunction.SIGMOID, 4, 1, true), store, unitRow());

        assertArrayEquals(new int[] {2, 3}, Arrays.copyOf(routing.expertIds(), 2));
    }

    @Test
    void biasChoosesButDoesNotWeigh() {
        double[] probabilities = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2};
        HeapTensorStore store = gateWithLogits(probabilities);
        float[] bias = new float[8];
        bias[7] = 1f;
        store.put(GATE + "e_score_correction_bias", bias, 8);

        ExpertRouting routing = route(MoeTestModels.config(ScoringFunction.SIGMOID, 1, 1, false), store, unitRow());

        assertArrayEquals(new int[] {7, 0}, Arrays.copyOf(routing.expertIds(), 2));
        assertArrayEquals(new float[] {2.5f * 0.2f, 2.5f * 0.9f}, Arrays.copyOf(routing.weights(), 2), 1e-6f);
    }

    @Test
    void routingWithWrongExpertsPerTokenIsRejected() {
        ModelConfig config = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true);
        MoeGate gate = MoeGate.load(new RandomWeights(54).moe(config, 1).store(), config, 1);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> gate.route(new float[HIDDEN], ExpertRouting.allocate(1, 3), new Workspace()));

        assertTrue(error.getMessage().contains("3 experts per token"), error.getMessage());
    }

    private static void assertMatchesNaive(ModelConfig config, HeapTensorStore store, int rows) {
        RandomWeights inputs = new RandomWeights(99);
        float[] x = inputs.gaussian(rows * HIDDEN);
        ExpertRouting routing = route(config, store, x);
        NaiveMoe naive = new NaiveMoe(config.moe(), store, 1, HIDDEN);

        for (int row = 0; row < rows; row++) {
            NaiveMoe.Choice expected = naive.route(Arrays.copyOfRange(x, row * HIDDEN, (row + 1) * HIDDEN));
            for (int slot = 0; slot < 2; slot++) {
                assertEquals(expected.experts()[slot], routing.expert(row, slot), "row " + row + " slot " + slot);
                assertEquals(expected.weights()[slot], routing.weight(row, slot), 1e-5, "row " + row + " slot " + slot);
            }
        }
    }

    private static ExpertRouting route(ModelConfig config, HeapTensorStore store, float[] x) {
        MoeGate gate = MoeGate.load(store, config, 1);
        ExpertRouting routing = ExpertRouting.allocate(x.length / HIDDEN, 2);
        gate.route(x, routing, new Workspace());
        return routing;
    }

    /** Builds a gate whose logits on {@link #unitRow()} are the logits of {@code probabilities}, with zero bias. */
    private static HeapTensorStore gateWithLogits(double[] probabilities) {
        HeapTensorStore store = new HeapTensorStore();
        float[] weight = new float[8 * HIDDEN];
        for (int e = 0; e < 8; e++) {
            weight[e * HIDDEN] = (float) Math.log(probabilities[e] / (1 - probabilities[e]));
        }
        store.put(GATE + "weight", weight, 8, HIDDEN);
        store.put(GATE + "e_score_correction_bias", new float[8], 8);
        return store;
    }

    private static float[] unitRow() {
        float[] x = new float[HIDDEN];
        x[0] = 1f;
        return x;
    }
}
