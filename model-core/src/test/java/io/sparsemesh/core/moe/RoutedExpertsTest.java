package io.sparsemesh.core.moe;

import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.ScoringFunction;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.core.testing.HeapTensorStore;
import io.sparsemesh.core.testing.RandomWeights;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoutedExpertsTest {

    private static final int HIDDEN = MoeTestModels.HIDDEN;
    private static final int ROWS = 12;
    private static final ModelConfig CONFIG = MoeTestModels.config(ScoringFunction.SIGMOID, 4, 2, true);

    @Test
    void allExpertsMatchNaivePerRowLoop() {
        HeapTensorStore store = new RandomWeights(61).moe(CONFIG, 1).store();
        float[] x = new RandomWeights(62).gaussian(ROWS * HIDDEN);
        ExpertRouting routing = route(store, x);

        float[] output = run(store, allExperts(), x, routing);

        NaiveMoe naive = new NaiveMoe(CONFIG.moe(), store, 1, HIDDEN);
        for (int row = 0; row < ROWS; row++) {
            float[] rowInput = Arrays.copyOfRange(x, row * HIDDEN, (row + 1) * HIDDEN);
            double[] expected = new double[HIDDEN];
            for (int slot = 0; slot < 2; slot++) {
                double[] expertOut = naive.mlp("experts." + routing.expert(row, slot) + ".", rowInput);
                for (int d = 0; d < HIDDEN; d++) {
                    expected[d] += routing.weight(row, slot) * expertOut[d];
                }
            }
            for (int d = 0; d < HIDDEN; d++) {
                assertEquals(expected[d], output[row * HIDDEN + d], 1e-5, "row " + row + " element " + d);
            }
        }
    }

    @Test
    void shardOutputsSumToWhole() {
        HeapTensorStore store = new RandomWeights(63).moe(CONFIG, 1).store();
        float[] x = new RandomWeights(64).gaussian(ROWS * HIDDEN);
        ExpertRouting routing = route(store, x);

        float[] whole = run(store, allExperts(), x, routing);
        float[] even = run(store, Set.of(0, 2, 4, 6), x, routing);
        float[] odd = run(store, Set.of(1, 3, 5, 7), x, routing);

        for (int i = 0; i < whole.length; i++) {
            assertEquals(whole[i], even[i] + odd[i], 1e-5, "element " + i);
        }
    }

    @Test
    void shardLoadsOnlyItsExperts() {
        HeapTensorStore store = new RandomWeights(65).moe(CONFIG, 1).store();

        RoutedExperts shard = RoutedExperts.load(store, CONFIG, 1, Set.of(2, 5));

        Set<String> expertsLoaded = store.loadedNames().stream()
                .map(name -> name.replaceAll("model\\.layers\\.1\\.mlp\\.experts\\.(\\d+)\\..*", "$1"))
                .collect(Collectors.toSet());
        assertEquals(Set.of("2", "5"), expertsLoaded);
        assertEquals(6, store.loadedNames().size());
        assertArrayEquals(new int[] {2, 5}, shard.expertIds());
    }

    @Test
    void rowsWithoutOwnedExpertAreZero() {
        HeapTensorStore store = new RandomWeights(66).moe(CONFIG, 1).store();
        float[] x = new RandomWeights(67).gaussian(2 * HIDDEN);
        ExpertRouting routing = new ExpertRouting(2, 2, new int[] {0, 1, 6, 7}, new float[] {0.5f, 0.5f, 1f, 1f});
        float[] output = new float[2 * HIDDEN];
        Arrays.fill(output, 9f);

        RoutedExperts.load(store, CONFIG, 1, Set.of(6, 7)).forward(x, routing, output, new Workspace());

        for (int d = 0; d < HIDDEN; d++) {
            assertEquals(0f, output[d], "row 0 element " + d);
        }
        assertTrue(Math.abs(output[HIDDEN]) > 0, "row 1 uses owned experts 6 and 7");
    }

    @Test
    void expertIdOutsideLayerIsRejected() {
        HeapTensorStore store = new RandomWeights(68).moe(CONFIG, 1).store();

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> RoutedExperts.load(store, CONFIG, 1, Set.of(8)));

        assertTrue(error.getMessage().contains("expert id 8"), error.getMessage());
    }

    private static ExpertRouting route(HeapTensorStore store, float[] x) {
        ExpertRouting routing = ExpertRouting.allocate(x.length / HIDDEN, 2);
        MoeGate.load(store, CONFIG, 1).route(x, routing, new Workspace());
        return routing;
    }

    private static float[] run(HeapTensorStore store, Set<Integer> expertIds, float[] x, ExpertRouting routing) {
        float[] output = new float[routing.rows() * HIDDEN];
        RoutedExperts.load(store, CONFIG, 1, expertIds).forward(x, routing, output, new Workspace());
        return output;
    }

    private static Set<Integer> allExperts() {
        return IntStream.range(0, 8).boxed().collect(Collectors.toSet());
    }
}
