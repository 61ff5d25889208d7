package io.sparsemesh.core.moe;

import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.ScoringFunction;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.core.testing.HeapTensorStore;
import io.sparsemesh.core.testing.RandomWeights;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MixtureOfExpertsTest {

    private static final int HIDDEN = MoeTestModels.HIDDEN;

    @Test
    void layerMatchesNaiveGateExpertsAndShared() {
        ModelConfig config = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true);
        HeapTensorStore store = new RandomWeights(71).moe(config, 1).store();
        int rows = 9;
        float[] x = new RandomWeights(72).gaussian(rows * HIDDEN);
        float[] output = new float[rows * HIDDEN];

        MixtureOfExperts.load(store, config, 1).forward(x, output, rows, new Workspace());

        NaiveMoe naive = new NaiveMoe(config.moe(), store, 1, HIDDEN);
        for (int row = 0; row < rows; row++) {
            float[] rowInput = Arrays.copyOfRange(x, row * HIDDEN, (row + 1) * HIDDEN);
            NaiveMoe.Choice choice = naive.route(rowInput);
            double[] expected = naive.mlp("shared_experts.", rowInput);
            for (int slot = 0; slot < 2; slot++) {
                double[] expertOut = naive.mlp("experts." + choice.experts()[slot] + ".", rowInput);
                for (int d = 0; d < HIDDEN; d++) {
                    expected[d] += choice.weights()[slot] * expertOut[d];
                }
            }
            for (int d = 0; d < HIDDEN; d++) {
                assertEquals(expected[d], output[row * HIDDEN + d], 1e-5, "row " + row + " element " + d);
            }
        }
    }
}
