package io.sparsemesh.expert;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.TokenCollector;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.sampling.SamplingParams;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Greedy generations through a {@link Scheduler}, and the single-process engine's tokens to compare with. */
final class Generations {

    static final int CONTEXT = 128;

    private Generations() {
    }

    /** Submits a greedy generation of {@code count} tokens that ignores EOS; the future completes with its tokens. */
    static CompletableFuture<int[]> submit(Scheduler scheduler, int[] prompt, int count) {
        return TokenCollector.submit(scheduler, new GenerationRequest("test-" + prompt.length, prompt,
                SamplingParams.greedy(count).withIgnoreEos(true)));
    }

    static int[] generate(Scheduler scheduler, int[] prompt, int count) throws Exception {
        return submit(scheduler, prompt, count).get(120, TimeUnit.SECONDS);
    }

    /** Returns the single-process engine's greedy tokens for each prompt, each generated alone. */
    static int[][] local(Path model, int[][] prompts, int count) throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
             Scheduler scheduler = new Scheduler(
                     TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), CONTEXT),
                     EngineOptions.defaults(CONTEXT))) {
            int[][] tokens = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                tokens[i] = generate(scheduler, prompts[i], count);
            }
            return tokens;
        }
    }
}
