package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backend that fails for some rows ends only those rows' sequences; the others finish unchanged. */
class SchedulerFailureTest {

    @Test
    void failedRowsEndOnlyTheirSequences() throws Exception {
        ModelCheckpoint checkpoint = Checkpoints.open(TestData.hfTiny("deepseek_v3_tiny"), null);
        int[][] prompts = {{5, 6, 7}, {9, 10, 11, 12}, {20, 21}};
        int count = 12;

        List<int[]> expected = new ArrayList<>();
        try (Scheduler scheduler = new Scheduler(TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), 64),
                new EngineOptions(64, 64, 8, 64))) {
            for (int[] prompt : prompts) {
                expected.add(StoriesGreedyTest.collect(scheduler, prompt, count).get(60, TimeUnit.SECONDS));
            }
        }

        ModelCheckpoint mesh = Checkpoints.open(TestData.hfTiny("deepseek_v3_tiny"), null);
        ExpertShard shard = ExpertShard.load(mesh.store(), mesh.config(), new ShardLayout(1), 0,
                ExpertShard.DensePlacement.ROUTER);
        FailOnceExperts experts = new FailOnceExperts(shard);
        AttentionBackend attention = new LocalAttention(IntStream.range(0, mesh.config().numLayers())
                .mapToObj(l -> TransformerLoader.loadAttention(mesh.store(), mesh.config(), l))
                .toArray(io.sparsemesh.core.attention.AttentionLayer[]::new), 0, 64);
        Transformer model = TransformerLoader.loadRouter(mesh.config(), mesh.store(), attention, experts,
                ExpertShard.DensePlacement.ROUTER);

        // After the prefill step, row 0 of the next step is the first prompt's decode row: fail it once.
        AtomicInteger steps = new AtomicInteger();
        StepObserver armAfterPrefill = (rows, sampled, running, waiting, nanos) -> {
            if (steps.incrementAndGet() == 1) {
                experts.armed.set(true);
            }
        };
        try (Scheduler scheduler = new Scheduler(model, new EngineOptions(64, 64, 8, 64), armAfterPrefill)) {
            List<CompletableFuture<int[]>> results = new ArrayList<>();
            for (int[] prompt : prompts) {
                results.add(StoriesGreedyTest.collect(scheduler, prompt, count));
            }

            ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> results.get(0).get(60, TimeUnit.SECONDS));
            SequencesFailedException cause = assertInstanceOf(SequencesFailedException.class, failure.getCause());
            assertEquals(FailureCode.UNAVAILABLE, cause.code());
            assertTrue(cause.getMessage().contains("expert shard 0"), cause.getMessage());

            for (int i = 1; i < prompts.length; i++) {
                assertArrayEquals(expected.get(i), results.get(i).get(60, TimeUnit.SECONDS), "prompt " + i);
            }
            assertEquals(0, ((LocalAttention) attention).cachedSequences(), "caches left after the run");
        }
    }

}
