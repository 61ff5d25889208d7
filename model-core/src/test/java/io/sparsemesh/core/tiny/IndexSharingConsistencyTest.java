package io.sparsemesh.core.tiny;

import io.sparsemesh.core.config.HuggingFaceConfigReader;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.ModelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GLM-5's index sharing on the tiny {@code GlmMoeDsaForCausalLM}, whose layers 1, 2 and 4 reuse
 * the top-k of layers 0 and 3, against the same weights with every layer running its own indexer.
 * Where both select the same positions, the logits are bitwise equal; the shared pattern runs the
 * indexer only on its FULL layers; and the older config form describing the same pattern
 * ({@code index_topk_freq}) reads to the same model.
 */
class IndexSharingConsistencyTest {

    /** A top-k above every sequence length here, so that every layer selects all positions. */
    private static final int WIDE_TOPK = 128;

    @TempDir
    static Path dir;

    private static TinyCheckpoint shared;
    private static TinyCheckpoint allFull;

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        shared = TinyModels.glmMoeDsa(dir.resolve("shared"));
        allFull = shared.withConfig(dir.resolve("all_full"),
                config -> config.put("indexer_types", Collections.nCopies(TinyModels.GLM_MOE_DSA.layers(), "full")));
    }

    @Test
    void wideTopKSharedEqualsAllFull() throws Exception {
        TinyCheckpoint sharedWide = shared.withConfig(dir.resolve("shared_wide"),
                config -> config.put("index_topk", WIDE_TOPK));
        TinyCheckpoint allFullWide = allFull.withConfig(dir.resolve("all_full_wide"),
                config -> config.put("index_topk", WIDE_TOPK));

        int[] prompt = Runs.PROMPTS[3];
        Runs.Trace fromShared = Traces.greedy(sharedWide, prompt, Runs.NEW_TOKENS);
        Runs.Trace fromAllFull = Traces.greedy(allFullWide, prompt, Runs.NEW_TOKENS);
        assertArrayEquals(fromShared.tokens(), fromAllFull.tokens());
        for (int step = 0; step < Runs.NEW_TOKENS; step++) {
            assertArrayEquals(fromShared.logits()[step], fromAllFull.logits()[step], "step " + step);
        }
    }

    @Test
    void shortTopKEqualUntilSelectionsDiverge() {
        // a one-token prompt, so that step s predicts from positions 0..s
        int[] prompt = Runs.PROMPTS[0];
        Runs.Trace fromShared = Traces.greedy(shared, prompt, Runs.NEW_TOKENS);
        Runs.Trace fromAllFull = Traces.forced(allFull, prompt, fromShared.generated(prompt.length));
        float laterDifference = Traces.equalWithinTopK(fromShared, fromAllFull);
        assertTrue(laterDifference > 1e-2, "reusing layer 0's and 3's top-k changed no logit by more than 0.01"
                + " (max " + laterDifference + "), so the SHARED layers did not use a different selection");
    }

    @Test
    void indexerRunsOnlyOnFullLayers() {
        int[] prompt = Runs.PROMPTS[2];
        long rows = prompt.length + Runs.NEW_TOKENS - 1; // the last sampled token is never fed back

        Runs.Trace fromShared = Traces.greedy(shared, prompt, Runs.NEW_TOKENS);
        assertEquals(2 * rows, fromShared.indexerRuns(), "layers 0 and 3 score every row");
        assertEquals(3 * rows, fromShared.indexerReuses(), "layers 1, 2 and 4 reuse for every row");

        Runs.Trace fromAllFull = Traces.greedy(allFull, prompt, Runs.NEW_TOKENS);
        assertEquals(5 * rows, fromAllFull.indexerRuns());
        assertEquals(0, fromAllFull.indexerReuses());
    }

    /**
     * The config form from before {@code indexer_types}: {@code index_topk_freq} 3 with
     * {@code index_skip_topk_offset} 1 makes layer i FULL when {@code i % 3 == 0}, and
     * {@code first_k_dense_replace} and a top-level {@code rope_theta} replace
     * {@code mlp_layer_types} and {@code rope_parameters}.
     */
    @Test
    void olderConfigFormReadsTheSame() throws Exception {
        TinyCheckpoint older = shared.withConfig(dir.resolve("older_form"), config -> {
            config.remove("indexer_types");
            config.remove("layer_types");
            config.remove("mlp_layer_types");
            config.remove("rope_parameters");
            config.put("index_topk_freq", 3);
            config.put("index_skip_topk_offset", 1);
            config.put("rope_theta", 1_000_000.0);
        });

        ModelConfig olderConfig = HuggingFaceConfigReader.read(older.folder());
        assertEquals(List.of(IndexerType.FULL, IndexerType.SHARED, IndexerType.SHARED, IndexerType.FULL,
                IndexerType.SHARED), olderConfig.indexer().layerTypes());
        assertEquals(HuggingFaceConfigReader.read(shared.folder()), olderConfig);

        int[] prompt = Runs.PROMPTS[2];
        Runs.Trace fromCurrent = Traces.greedy(shared, prompt, Runs.NEW_TOKENS);
        Runs.Trace fromOlder = Traces.greedy(older, prompt, Runs.NEW_TOKENS);
        assertArrayEquals(fromCurrent.tokens(), fromOlder.tokens());
        assertArrayEquals(fromCurrent.logits()[Runs.NEW_TOKENS - 1], fromOlder.logits()[Runs.NEW_TOKENS - 1]);
    }
}
