package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ping-pong of two micro-batches gives the same greedy tokens as one batch per step, on stories260K
 * and on the trained GLM-5-style model (MLA, shared indexer top-k, MoE), and a failure in one
 * micro-batch ends only the sequences it names.
 */
class PingPongTest {

    private static final int TOKENS = 24;

    /** Prompts of different lengths, so that steps mix prefill chunks and decode rows. */
    private static final int[][] STORIES_PROMPTS = {
            {1, 403, 407, 261, 378}, {1, 403}, {1, 403, 407, 261, 378, 432, 383, 286}, {1, 198},
            {1, 349, 261, 435, 302, 261}, {1, 306},
    };

    @Test
    void storiesTokensEqualSingleBatch() throws Exception {
        ModelCheckpoint checkpoint = Checkpoints.open(TestData.storiesGguf(), null);

        assertArrayEquals(generate(checkpoint, STORIES_PROMPTS, false), generate(checkpoint, STORIES_PROMPTS, true));
    }

    @Test
    void trainedGlmTokensEqualSingleBatch() throws Exception {
        Path folder = TestData.root().resolve("models/glm5-mini-gutenberg");
        ModelCheckpoint checkpoint = Checkpoints.open(folder, null);
        int[][] prompts = {{1, 300, 41, 992, 17}, {1, 77}, {1, 2048, 5, 612, 9, 88, 1203, 45, 7, 310}, {1, 15, 16}};

        assertArrayEquals(generate(checkpoint, prompts, false), generate(checkpoint, prompts, true));
    }

    @Test
    void failedMicroBatchRowsEndOnlyTheirSequences() throws Exception {
        ModelCheckpoint checkpoint = Checkpoints.open(TestData.hfTiny("deepseek_v3_tiny"), null);
        int[][] prompts = {{5, 6, 7}, {9, 10, 11, 12}, {20, 21}, {30, 31, 32}};
        int[][] expected = generate(checkpoint, prompts, false);

        ExpertShard shard = ExpertShard.load(checkpoint.store(), checkpoint.config(), new ShardLayout(1), 0,
                ExpertShard.DensePlacement.ROUTER);
        FailOnceExperts experts = new FailOnceExperts(shard);
        LocalAttention attention = new LocalAttention(IntStream.range(0, checkpoint.config().numLayers())
                .mapToObj(layer -> TransformerLoader.loadAttention(checkpoint.store(), checkpoint.config(), layer))
                .toArray(AttentionLayer[]::new), 0, 64);
        Transformer model = TransformerLoader.loadRouter(checkpoint.config(), checkpoint.store(), attention, experts,
                ExpertShard.DensePlacement.ROUTER);
        model.setPingPong(true);

        // after the prefill step, the next routed call fails its row 0: one decode row of one micro-batch
        StepObserver armAfterPrefill = new StepObserver() {
            private int steps;

            @Override
            public void onStep(int rows, int sampled, int running, int waiting, long nanos) {
                if (++steps == 1) {
                    experts.armed.set(true);
                }
            }
        };
        try (Scheduler scheduler = new Scheduler(model, new EngineOptions(64, 64, 8, 64), armAfterPrefill)) {
            List<CompletableFuture<int[]>> results = new ArrayList<>();
            for (int[] prompt : prompts) {
                results.add(StoriesGreedyTest.collect(scheduler, prompt, 12));
            }

            int failed = 0;
            for (int i = 0; i < prompts.length; i++) {
                try {
                    assertArrayEquals(java.util.Arrays.copyOf(expected[i], 12), results.get(i).get(60, TimeUnit.SECONDS),
                            "prompt " + i);
                } catch (ExecutionException e) {
                    SequencesFailedException cause = assertInstanceOf(SequencesFailedException.class, e.getCause());
                    assertEquals(FailureCode.UNAVAILABLE, cause.code());
                    failed++;
                }
            }
            assertEquals(1, failed, "sequences ended by the failed row");
            assertEquals(0, attention.cachedSequences(), "caches left after the run");
        }
    }

    @Test
    void singleSequenceRunsAsOneBatch() throws Exception {
        ModelCheckpoint checkpoint = Checkpoints.open(TestData.storiesGguf(), null);
        ThreadRecordingExperts experts = new ThreadRecordingExperts(ExpertShard.load(checkpoint.store(),
                checkpoint.config(), new ShardLayout(1), 0, ExpertShard.DensePlacement.SHARDS));
        LocalAttention attention = new LocalAttention(IntStream.range(0, checkpoint.config().numLayers())
                .mapToObj(layer -> TransformerLoader.loadAttention(checkpoint.store(), checkpoint.config(), layer))
                .toArray(AttentionLayer[]::new), 0, 64);
        Transformer model = TransformerLoader.loadRouter(checkpoint.config(), checkpoint.store(), attention, experts,
                ExpertShard.DensePlacement.SHARDS);
        model.setPingPong(true);

        int vocab = checkpoint.config().vocabSize();
        try (model) {
            // one sequence: its five prompt rows run on the calling thread alone
            int[] prompt = STORIES_PROMPTS[0];
            model.step(new long[] {1, 1, 1, 1, 1}, prompt, new int[] {0, 1, 2, 3, 4}, 5, new int[] {4}, 1,
                    new float[vocab]);
            assertEquals(Set.of(Thread.currentThread().getName()), experts.threads,
                    "threads that ran a single sequence's FFNs");

            // two sequences: the second micro-batch runs on the ping-pong thread
            model.step(new long[] {1, 2}, new int[] {prompt[1], 1}, new int[] {1, 0}, 2, new int[] {0, 1}, 2,
                    new float[2 * vocab]);
            assertTrue(experts.threads.contains("sparsemesh-ping-pong"),
                    "threads that ran two sequences' FFNs: " + experts.threads);
        }
    }

    /** Submits every prompt before waiting, so that the scheduler batches them in the same steps. */
    private static int[][] generate(ModelCheckpoint checkpoint, int[][] prompts, boolean pingPong) throws Exception {
        Transformer model = TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), 256);
        model.setPingPong(pingPong);
        try (Scheduler scheduler = new Scheduler(model, new EngineOptions(256, 256, 16, 256))) {
            List<CompletableFuture<int[]>> running = new ArrayList<>();
            for (int[] prompt : prompts) {
                running.add(StoriesGreedyTest.collect(scheduler, prompt, TOKENS));
            }
            int[][] tokens = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                tokens[i] = running.get(i).get(120, TimeUnit.SECONDS);
            }
            return tokens;
        }
    }

    /** Real experts that record the names of the threads that call them. */
    private static final class ThreadRecordingExperts implements ExpertBackend {
        private final ExpertShard shard;
        private final Set<String> threads = ConcurrentHashMap.newKeySet();

        ThreadRecordingExperts(ExpertShard shard) {
            this.shard = shard;
        }

        @Override
        public void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output) {
            threads.add(Thread.currentThread().getName());
            shard.forwardRouted(layer, input, rows, routing, output);
        }

        @Override
        public void forwardDense(int layer, float[] input, int rows, float[] output) {
            threads.add(Thread.currentThread().getName());
            shard.forwardDense(layer, input, rows, output);
        }

        @Override
        public void close() {
        }
    }
}
