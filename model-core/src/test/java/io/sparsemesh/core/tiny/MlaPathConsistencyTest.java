package io.sparsemesh.core.tiny;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.mla.MlaPathPolicy;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * MLA's expanded path (decompress K/V, then ordinary attention) and absorbed path (attend over
 * the latents) compute the same function. Forcing either one for every row of the whole engine
 * must therefore give the same logits within float rounding and the same greedy tokens. The
 * models are dense MLA, FP8 DeepSeek-V3.2 and GLM-5 with shared top-k.
 */
class MlaPathConsistencyTest {

    /**
     * Largest logit difference allowed between the paths, for logits with a standard deviation of
     * about 1; the largest measured over these prompts is 5e-6, from float summation order.
     */
    static final float LOGIT_TOLERANCE = 1e-4f;

    private static final int CONTEXT = 128;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"DEEPSEEK_V3", "DEEPSEEK_V32", "GLM_MOE_DSA"})
    void expandedAndAbsorbedPathsAgree(Architecture architecture) throws Exception {
        TinyCheckpoint tiny = TinyModels.write(architecture, dir);
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null)) {
            Transformer expanded = load(checkpoint, MlaPathPolicy.alwaysExpanded());
            Transformer absorbed = load(checkpoint, MlaPathPolicy.alwaysAbsorbed());

            // logits of each greedy step, with the prompt prefilled in one step and then one row per step
            for (int[] prompt : new int[][] {Runs.PROMPTS[0], Runs.PROMPTS[3]}) {
                Runs.Trace expandedTrace = Runs.greedy(expanded, prompt, Runs.NEW_TOKENS);
                Runs.Trace absorbedTrace = Runs.greedy(absorbed, prompt, Runs.NEW_TOKENS);
                assertArrayEquals(expandedTrace.tokens(), absorbedTrace.tokens(), "prompt of " + prompt.length);
                for (int step = 0; step < Runs.NEW_TOKENS; step++) {
                    assertArrayEquals(expandedTrace.logits()[step], absorbedTrace.logits()[step], LOGIT_TOLERANCE,
                            "prompt of " + prompt.length + ", step " + step);
                }
            }

            // greedy tokens of all prompts batched through the scheduler
            EngineOptions options = EngineOptions.defaults(CONTEXT);
            try (Scheduler expandedScheduler = new Scheduler(expanded, options);
                 Scheduler absorbedScheduler = new Scheduler(absorbed, options)) {
                int[][] fromExpanded = Runs.generateTogether(expandedScheduler, Runs.PROMPTS, Runs.NEW_TOKENS);
                int[][] fromAbsorbed = Runs.generateTogether(absorbedScheduler, Runs.PROMPTS, Runs.NEW_TOKENS);
                for (int i = 0; i < Runs.PROMPTS.length; i++) {
                    assertEquals(Runs.NEW_TOKENS, fromExpanded[i].length);
                    assertArrayEquals(fromExpanded[i], fromAbsorbed[i], "prompt " + i);
                }
            }
        }
    }

    private static Transformer load(ModelCheckpoint checkpoint, MlaPathPolicy policy) {
        return TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), CONTEXT, policy);
    }
}
