package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TokenCollector} on a real {@link Scheduler} over stories260K: finish, failure and cancellation. */
class TokenCollectorTest {

    private static final GenerationRequest GREEDY_16 = new GenerationRequest("collector", StoriesGreedyTest.PROMPT,
            SamplingParams.greedy(16).withIgnoreEos(true));

    @Test
    void finishedGenerationCompletesWithTokens() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 128)) {
            TokenCollector collector = new TokenCollector();
            engine.scheduler().submit(GREEDY_16, collector);

            assertArrayEquals(StoriesGreedyTest.LLAMA_CPP_TOKENS, collector.tokens().get(60, TimeUnit.SECONDS));
            assertEquals(FinishReason.LENGTH, collector.finishReason());
            assertEquals(StoriesGreedyTest.PROMPT.length, collector.stats().promptTokens());
            assertEquals(16, collector.stats().completionTokens());
        }
    }

    @Test
    void submitReturnsFutureOfTokens() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 128)) {
            CompletableFuture<int[]> tokens = TokenCollector.submit(engine.scheduler(), GREEDY_16);

            assertArrayEquals(StoriesGreedyTest.LLAMA_CPP_TOKENS, tokens.get(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void submitPassesRejectionThrough() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 4)) {
            IllegalArgumentException rejected = assertThrows(IllegalArgumentException.class,
                    () -> TokenCollector.submit(engine.scheduler(), GREEDY_16));

            assertTrue(rejected.getMessage().contains("the prompt has 5 tokens"), rejected.getMessage());
        }
    }

    @Test
    void failedGenerationCompletesExceptionally() throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestData.storiesGguf(), null)) {
            Transformer model = TransformerLoader.loadRouter(checkpoint.config(), checkpoint.store(),
                    new UnavailableAttention(), null, ExpertShard.DensePlacement.ROUTER);
            try (Scheduler scheduler = new Scheduler(model, EngineOptions.defaults(128))) {
                TokenCollector collector = new TokenCollector();
                scheduler.submit(GREEDY_16, collector);

                ExecutionException failure = assertThrows(ExecutionException.class,
                        () -> collector.tokens().get(60, TimeUnit.SECONDS));
                SequencesFailedException cause = assertInstanceOf(SequencesFailedException.class, failure.getCause());
                assertEquals(FailureCode.UNAVAILABLE, cause.code());
                assertEquals(UnavailableAttention.MESSAGE, cause.getMessage());
                assertEquals(FinishReason.ERROR, collector.finishReason());
                assertNull(collector.stats());
            }
        }
    }

    /** Cancelling after the first token ends the generation with that one token collected. */
    @Test
    void cancelledGenerationKeepsTokensSoFar() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 128)) {
            TokenCollector collector = new TokenCollector();
            CompletableFuture<GenerationHandle> handle = new CompletableFuture<>();
            GenerationListener cancelOnFirstToken = new GenerationListener() {
                @Override
                public boolean onToken(int token) {
                    boolean goOn = collector.onToken(token);
                    // blocks the step thread only until submit below has returned the handle
                    handle.join().cancel();
                    return goOn;
                }

                @Override
                public void onFinish(FinishReason reason, GenerationStats stats) {
                    collector.onFinish(reason, stats);
                }

                @Override
                public void onError(Throwable error) {
                    collector.onError(error);
                }
            };
            handle.complete(engine.scheduler().submit(GREEDY_16, cancelOnFirstToken));

            assertArrayEquals(new int[] {StoriesGreedyTest.LLAMA_CPP_TOKENS[0]},
                    collector.tokens().get(60, TimeUnit.SECONDS));
            assertEquals(FinishReason.CANCELLED, collector.finishReason());
            assertEquals(1, collector.stats().completionTokens());
        }
    }

    /** Attention whose every step fails for all rows, like a replica that cannot be reached. */
    private static final class UnavailableAttention implements AttentionBackend {

        static final String MESSAGE = "attention replica unavailable";

        @Override
        public AttentionStep beginStep(long[] sequenceIds, int[] positions, int rows) {
            throw new RowsFailedException(IntStream.range(0, rows).toArray(), FailureCode.UNAVAILABLE, MESSAGE, null);
        }

        @Override
        public void release(long sequenceId) {
        }

        @Override
        public void close() {
        }
    }
}
