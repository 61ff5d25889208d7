package io.sparsemesh.core.tiny;

import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.TokenCollector;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/** Greedy generations and logit traces over the tiny checkpoints. */
final class Runs {

    /** Tokens each test generates. */
    static final int NEW_TOKENS = 32;

    /** Prompts of 1, 2, 5 and 20 tokens; together with 32 new tokens all exceed {@code index_topk}. */
    static final int[][] PROMPTS = {
            {TinyModels.BOS},
            {TinyModels.BOS, 200},
            {TinyModels.BOS, 17, 42, 99, 5},
            IntStream.range(0, 20).map(i -> (i * 37 + 11) % TinyModels.VOCAB).toArray(),
    };

    private static final long TRACE_SEQUENCE = 1;

    private Runs() {
    }

    /**
     * Logits of one sequence, fed through {@link Transformer#step} as the scheduler would: the
     * whole prompt in one step, then one token per step.
     *
     * @param tokens        the prompt followed by every generated token
     * @param logits        per step, the logits of the sequence's last row
     * @param indexerRuns   rows for which a FULL layer ran its lightning indexer, summed over layers
     * @param indexerReuses rows for which a SHARED layer took an earlier layer's top-k, summed over layers
     */
    record Trace(int[] tokens, float[][] logits, long indexerRuns, long indexerReuses) {

        /** Returns the {@code count} tokens after a prompt of {@code promptLength}. */
        int[] generated(int promptLength) {
            return Arrays.copyOfRange(tokens, promptLength, tokens.length);
        }
    }

    /** Runs {@code prompt} and {@code count} greedy steps, each fed the previous step's argmax. */
    static Trace greedy(Transformer model, int[] prompt, int count) {
        return trace(model, prompt, count, null);
    }

    /** Runs {@code prompt} and then feeds {@code continuation} token by token, whatever the logits are. */
    static Trace forced(Transformer model, int[] prompt, int[] continuation) {
        return trace(model, prompt, continuation.length, continuation);
    }

    private static Trace trace(Transformer model, int[] prompt, int count, int[] continuation) {
        int vocab = model.config().vocabSize();
        int[] tokens = Arrays.copyOf(prompt, prompt.length + count);
        float[][] logits = new float[count][vocab];
        long[] sequenceIds = new long[prompt.length];
        Arrays.fill(sequenceIds, TRACE_SEQUENCE);
        try {
            // the prompt in one step
            int[] positions = IntStream.range(0, prompt.length).toArray();
            model.step(sequenceIds, prompt, positions, prompt.length, new int[] {prompt.length - 1}, 1, logits[0]);

            // then one token per step
            for (int step = 0; step < count; step++) {
                int position = prompt.length + step;
                tokens[position] = continuation != null ? continuation[step] : argmax(logits[step]);
                if (step + 1 < count) {
                    model.step(sequenceIds, new int[] {tokens[position]}, new int[] {position}, 1, new int[] {0}, 1,
                            logits[step + 1]);
                }
            }

            SequenceCaches caches = ((LocalAttention) model.attention()).caches(TRACE_SEQUENCE);
            return new Trace(tokens, logits, caches.indexerRuns(), caches.indexerReuses());
        } finally {
            model.release(TRACE_SEQUENCE);
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Generates {@code count} greedy tokens through {@code scheduler}, with EOS not ending the sequence. */
    static int[] generate(Scheduler scheduler, int[] prompt, int count) throws Exception {
        return submit(scheduler, prompt, count).get(60, TimeUnit.SECONDS);
    }

    /** Generates for each prompt on its own, one after another. */
    static int[][] generateAlone(Scheduler scheduler, int[][] prompts, int count) throws Exception {
        int[][] outputs = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            outputs[i] = generate(scheduler, prompts[i], count);
        }
        return outputs;
    }

    /** Submits every prompt before waiting, so that the scheduler batches them in the same steps. */
    static int[][] generateTogether(Scheduler scheduler, int[][] prompts, int count) throws Exception {
        List<CompletableFuture<int[]>> futures = new ArrayList<>();
        for (int[] prompt : prompts) {
            futures.add(submit(scheduler, prompt, count));
        }
        int[][] outputs = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            outputs[i] = futures.get(i).get(60, TimeUnit.SECONDS);
        }
        return outputs;
    }

    private static CompletableFuture<int[]> submit(Scheduler scheduler, int[] prompt, int count) {
        SamplingParams params = SamplingParams.greedy(count).withIgnoreEos(true);
        return TokenCollector.submit(scheduler, new GenerationRequest("tiny-" + prompt.length, prompt, params));
    }
}
