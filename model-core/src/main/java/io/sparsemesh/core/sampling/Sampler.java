package io.sparsemesh.core.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy (argmax, lowest id on ties) or temperature sampling
 * restricted by top-k and top-p. One sampler per sequence, seeded, so runs are reproducible.
 */
public final class Sampler {

    private final SamplingParams params;
    private final SplittableRandom random;
    private int[] order = new int[0];
    private float[] probabilities = new float[0];
    private long[] keys = new long[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** Returns the next token given {@code vocab} logits at {@code logits[offset ..]}. */
    public int sample(float[] logits, int offset, int vocab) {
        if (params.isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        ensureCapacity(vocab);

        // softmax of logits / temperature
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            probabilities[i] = (float) Math.exp((logits[offset + i] - max) / params.temperature());
            sum += probabilities[i];
        }

        // candidates by decreasing probability, cut by top-k and top-p
        int candidates = sortByProbability(vocab);
        if (params.topK() > 0) {
            candidates = Math.min(candidates, params.topK());
        }
        double kept = 0;
        int cut = 0;
        while (cut < candidates) {
            kept += probabilities[order[cut]] / sum;
            cut++;
            if (kept >= params.topP()) {
                break;
            }
        }

        // draw from the kept candidates in proportion to their probability
        double total = 0;
        for (int i = 0; i < cut; i++) {
            total += probabilities[order[i]];
        }
        double draw = random.nextDouble() * total;
        for (int i = 0; i < cut; i++) {
            draw -= probabilities[order[i]];
            if (draw <= 0) {
                return order[i];
            }
        }
        return order[cut - 1];
    }

    public static int argmax(float[] logits, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Fills {@code order} with token ids by decreasing probability (lower id first on ties). */
    private int sortByProbability(int vocab) {
        // Probabilities are >= 0, so their float bits order like the values; the low half breaks ties by id.
        for (int i = 0; i < vocab; i++) {
            keys[i] = ((long) Float.floatToRawIntBits(probabilities[i]) << 32) | (0xFFFFFFFFL - i);
        }
        java.util.Arrays.sort(keys, 0, vocab);
        for (int i = 0; i < vocab; i++) {
            order[i] = (int) (0xFFFFFFFFL - (keys[vocab - 1 - i] & 0xFFFFFFFFL));
        }
        return vocab;
    }

    private void ensureCapacity(int vocab) {
        if (order.length < vocab) {
            order = new int[vocab];
            probabilities = new float[vocab];
            keys = new long[vocab];
        }
    }
}
