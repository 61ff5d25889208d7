package io.sparsemesh.attention;

import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.TokenCollector;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Greedy generation helpers shared by the tests. */
final class Generations {

    private Generations() {
    }

    /** Submits every prompt to {@code scheduler} at once and returns each one's {@code count} greedy tokens. */
    static int[][] greedy(Scheduler scheduler, int[][] prompts, int count) throws Exception {
        List<CompletableFuture<int[]>> results = new ArrayList<>();
        for (int[] prompt : prompts) {
            results.add(submit(scheduler, prompt, count));
        }
        int[][] tokens = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            tokens[i] = results.get(i).get(120, TimeUnit.SECONDS);
        }
        return tokens;
    }

    private static CompletableFuture<int[]> submit(Scheduler scheduler, int[] prompt, int count) {
        return TokenCollector.submit(scheduler,
                new GenerationRequest("test", prompt, SamplingParams.greedy(count).withIgnoreEos(true)));
    }

    /** How two models' logits compare over a teacher-forced greedy run. */
    record LogitComparison(int steps, float maxAbsDifference, int argmaxAgreements, boolean bitwiseEqual) {
    }

    /**
     * Prefills {@code prompt} as sequence {@code sequenceId} in both models in one step, then
     * decodes {@code steps - 1} tokens, feeding both models the reference model's greedy token
     * each time, and compares the logits of every step.
     */
    static LogitComparison compareLogits(Transformer reference, Transformer candidate, long sequenceId, int[] prompt,
                                         int steps) {
        int vocab = reference.config().vocabSize();
        float[] expected = new float[vocab];
        float[] actual = new float[vocab];
        float maxDifference = 0;
        int agreements = 0;
        boolean bitwise = true;

        int[] tokens = prompt.clone();
        int[] positions = new int[prompt.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        int rows = prompt.length;
        for (int step = 0; step < steps; step++) {
            long[] ids = new long[rows];
            Arrays.fill(ids, sequenceId);
            int[] logitRow = {rows - 1};
            reference.step(ids, tokens, positions, rows, logitRow, 1, expected);
            candidate.step(ids, tokens, positions, rows, logitRow, 1, actual);

            for (int v = 0; v < vocab; v++) {
                maxDifference = Math.max(maxDifference, Math.abs(expected[v] - actual[v]));
                bitwise &= Float.floatToRawIntBits(expected[v]) == Float.floatToRawIntBits(actual[v]);
            }
            int next = argmax(expected);
            if (next == argmax(actual)) {
                agreements++;
            }
            int position = positions[rows - 1] + 1;
            tokens = new int[] {next};
            positions = new int[] {position};
            rows = 1;
        }
        return new LogitComparison(steps, maxDifference, agreements, bitwise);
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Tokens at which two generations agree, position by position. */
    static int agreements(int[] expected, int[] actual) {
        int same = 0;
        for (int i = 0; i < Math.min(expected.length, actual.length); i++) {
            if (expected[i] == actual[i]) {
                same++;
            }
        }
        return same;
    }
}
