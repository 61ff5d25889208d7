package io.sparsemesh.core.tiny;

import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.engine.LocalEngine;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lightning-indexer models against dense MLA over the same weights: the same files read as
 * {@code DeepseekV3ForCausalLM} with the indexer fields removed from the config. While a sequence
 * is no longer than {@code index_topk}, the indexer keeps every position, so the sparse model must
 * equal the dense one; with a short top-k it must depart once the sequence outgrows it.
 */
class SparseDenseConsistencyTest {

    /** A top-k above every sequence length here (prompt plus 32 new tokens). */
    private static final int WIDE_TOPK = 128;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"DEEPSEEK_V32", "GLM_MOE_DSA"})
    void wideTopKEqualsDenseAttention(Architecture architecture) throws Exception {
        TinyCheckpoint sparse = TinyModels.write(architecture, dir)
                .withConfig(dir.resolve("wide"), config -> config.put("index_topk", WIDE_TOPK));
        TinyCheckpoint dense = withoutIndexer(sparse, dir.resolve("dense"));

        // logits along the dense model's greedy continuation of a 20-token prompt
        int[] prompt = Runs.PROMPTS[3];
        Runs.Trace denseTrace = Traces.greedy(dense, prompt, Runs.NEW_TOKENS);
        Runs.Trace sparseTrace = Traces.forced(sparse, prompt, denseTrace.generated(prompt.length));
        for (int step = 0; step < Runs.NEW_TOKENS; step++) {
            assertArrayEquals(denseTrace.logits()[step], sparseTrace.logits()[step], "step " + step);
        }

        // greedy tokens of every prompt through the engine
        int[][] fromSparse;
        int[][] fromDense;
        try (LocalEngine engine = LocalEngine.open(sparse.folder(), null, 128)) {
            fromSparse = Runs.generateTogether(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
        }
        try (LocalEngine engine = LocalEngine.open(dense.folder(), null, 128)) {
            fromDense = Runs.generateTogether(engine.scheduler(), Runs.PROMPTS, Runs.NEW_TOKENS);
        }
        for (int i = 0; i < Runs.PROMPTS.length; i++) {
            assertArrayEquals(fromDense[i], fromSparse[i], "prompt " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"DEEPSEEK_V32", "GLM_MOE_DSA"})
    void shortTopKDepartsFromDenseAfterTopKPositions(Architecture architecture) throws Exception {
        TinyCheckpoint sparse = TinyModels.write(architecture, dir);
        TinyCheckpoint dense = withoutIndexer(sparse, dir.resolve("dense"));

        // a one-token prompt, so that step s predicts from positions 0..s
        int[] prompt = Runs.PROMPTS[0];
        Runs.Trace denseTrace = Traces.greedy(dense, prompt, Runs.NEW_TOKENS);
        Runs.Trace sparseTrace = Traces.forced(sparse, prompt, denseTrace.generated(prompt.length));
        float laterDifference = Traces.equalWithinTopK(denseTrace, sparseTrace);
        assertTrue(laterDifference > 1e-2, "the top-k selection changed no logit by more than 0.01 (max "
                + laterDifference + "), so the sparse path was not exercised");
    }

    /** Copies {@code sparse} as a {@code DeepseekV3ForCausalLM}, whose config has no indexer fields. */
    private static TinyCheckpoint withoutIndexer(TinyCheckpoint sparse, Path target) throws Exception {
        return sparse.withConfig(target, config -> {
            config.put("architectures", List.of("DeepseekV3ForCausalLM"));
            config.put("model_type", "deepseek_v3");
            for (String field : List.of("index_topk", "index_n_heads", "index_head_dim", "indexer_types",
                    "layer_types")) {
                config.remove(field);
            }
        });
    }
}
