package io.sparsemesh.core.mla;

import java.util.Arrays;

/**
 * Top-k selection of key positions by index score. Among equal scores the lower position wins, so
 * the result is deterministic. The chosen positions come back in increasing order.
 */
final class PositionSelection {

    private PositionSelection() {
    }

    /**
     * Writes the {@code min(k, count)} positions {@code s < count} with the highest {@code scores[s]}
     * into {@code selected}, in increasing order, and returns how many it wrote.
     *
     * <p>Keeps a min-heap of the best {@code k} seen so far, with the worst at its root: {@code O(count · log k)}.
     */
    static int topK(float[] scores, int count, int k, int[] selected) {
        int size = Math.min(k, count);
        if (size == count) {
            for (int s = 0; s < count; s++) {
                selected[s] = s;
            }
            return count;
        }

        // fill the heap with the first positions, then replace its root whenever a better one comes
        for (int s = 0; s < size; s++) {
            selected[s] = s;
            siftUp(scores, selected, s);
        }
        for (int s = size; s < count; s++) {
            if (better(scores, s, selected[0])) {
                selected[0] = s;
                siftDown(scores, selected, size);
            }
        }

        Arrays.sort(selected, 0, size);
        return size;
    }

    /** True when position {@code a} ranks above {@code b}: a higher score, or an equal score and a lower position. */
    static boolean better(float[] scores, int a, int b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    }

    private static void siftUp(float[] scores, int[] heap, int index) {
        while (index > 0) {
            int parent = (index - 1) / 2;
            if (!better(scores, heap[parent], heap[index])) {
                return;
            }
            swap(heap, parent, index);
            index = parent;
        }
    }

    private static void siftDown(float[] scores, int[] heap, int size) {
        int index = 0;
        while (true) {
            int worst = index;
            int left = 2 * index + 1;
            int right = left + 1;
            if (left < size && better(scores, heap[worst], heap[left])) {
                worst = left;
            }
            if (right < size && better(scores, heap[worst], heap[right])) {
                worst = right;
            }
            if (worst == index) {
                return;
            }
            swap(heap, worst, index);
            index = worst;
        }
    }

    private static void swap(int[] heap, int i, int j) {
        int tmp = heap[i];
        heap[i] = heap[j];
        heap[j] = tmp;
    }
}
