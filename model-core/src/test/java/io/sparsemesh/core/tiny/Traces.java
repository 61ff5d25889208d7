package io.sparsemesh.core.tiny;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Opens a tiny checkpoint, loads it into a {@link Transformer}, runs one trace and closes everything. */
final class Traces {

    private static final int CONTEXT = 128;

    private Traces() {
    }

    static Runs.Trace greedy(TinyCheckpoint tiny, int[] prompt, int count) {
        return run(tiny, model -> Runs.greedy(model, prompt, count));
    }

    static Runs.Trace forced(TinyCheckpoint tiny, int[] prompt, int[] continuation) {
        return run(tiny, model -> Runs.forced(model, prompt, continuation));
    }

    private static Runs.Trace run(TinyCheckpoint tiny, Function<Transformer, Runs.Trace> trace) {
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null);
             Transformer model = TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), CONTEXT)) {
            return trace.apply(model);
        }
    }

    /**
     * Asserts that two traces of a one-token prompt have bitwise equal logits at the steps whose
     * sequence still fits in {@code index_topk}, and returns the largest logit difference of the
     * later steps.
     */
    static float equalWithinTopK(Runs.Trace expected, Runs.Trace actual) {
        float laterDifference = 0;
        for (int step = 0; step < expected.logits().length; step++) {
            if (step < TinyModels.INDEX_TOPK) {
                assertArrayEquals(expected.logits()[step], actual.logits()[step],
                        "step " + step + " attends to " + (step + 1) + " positions, within index_topk");
            } else {
                laterDifference = Math.max(laterDifference, maxDifference(expected.logits()[step], actual.logits()[step]));
            }
        }
        return laterDifference;
    }

    /** Returns the largest absolute difference between two logit rows. */
    static float maxDifference(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
