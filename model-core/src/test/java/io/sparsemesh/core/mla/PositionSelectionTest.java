package io.sparsemesh.core.mla;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PositionSelectionTest {

    @Test
    void topKEqualsFullSortWithTies() {
        Random random = new Random(11);
        for (int trial = 0; trial < 500; trial++) {
            int count = 1 + random.nextInt(40);
            int k = 1 + random.nextInt(45);
            float[] scores = new float[count];
            for (int s = 0; s < count; s++) {
                scores[s] = random.nextInt(6); // few distinct values, so most rows have ties at the cut
            }
            int[] selected = new int[count];

            int selectedCount = PositionSelection.topK(scores, count, k, selected);

            int[] expected = naiveTopK(scores, count, k);
            String where = "trial " + trial + ": scores " + Arrays.toString(scores) + ", k " + k;
            assertEquals(expected.length, selectedCount, where);
            assertArrayEquals(expected, Arrays.copyOf(selected, selectedCount), where);
        }
    }

    @Test
    void topKOfDistinctScores() {
        float[] scores = {0.5f, -1f, 3f, 2f, 0.25f, 7f};
        int[] selected = new int[6];

        int count = PositionSelection.topK(scores, 6, 3, selected);

        assertEquals(3, count);
        assertArrayEquals(new int[] {2, 3, 5}, Arrays.copyOf(selected, count));
    }

    @Test
    void tiesPreferLowerPositions() {
        float[] scores = {1f, 2f, 1f, 2f, 1f};
        int[] selected = new int[5];

        int count = PositionSelection.topK(scores, 5, 3, selected);

        assertArrayEquals(new int[] {0, 1, 3}, Arrays.copyOf(selected, count));
    }

    /** Sorts every position by score (descending, then position ascending) and keeps the first k, ascending. */
    private static int[] naiveTopK(float[] scores, int count, int k) {
        Integer[] order = IntStream.range(0, count).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(s -> -scores[s]).thenComparingInt(s -> s));
        return Arrays.stream(order).limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }
}
