package io.sparsemesh.attention;

import io.grpc.Status;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.attention.SequenceFailedException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits, request validation and freeing of caches, against a real service on loopback. */
class AttentionLimitsTest {

    private static final int CONTEXT = 128;

    @Test
    void sequenceLimitRejectsExtraSequences() throws Exception {
        AttentionLimits limits = new AttentionLimits(2, 1 << 20, Duration.ofMinutes(10), CONTEXT);
        try (RemoteMesh mesh = new RemoteMesh(TestModels.stories(), Collections.singletonList(null), limits,
                WireDType.WIRE_DTYPE_F32);
             Transformer local = mesh.localTransformer()) {
            StepRunner remote = new StepRunner(mesh.transformer);
            StepRunner reference = new StepRunner(local);

            // three new sequences where two fit: the step fails for the third only, and admits nothing
            SequenceFailedException failure = assertThrows(SequenceFailedException.class,
                    () -> remote.prefill(new long[] {1, 2, 3}, new int[][] {{1, 403}, {1, 407, 261}, {1}}));
            assertArrayEquals(new long[] {3}, failure.sequenceIds());
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, failure.status().getCode());
            assertTrue(failure.getMessage().contains("max-sequences limit is 2"), failure.getMessage());
            assertTrue(failure.getMessage().contains(mesh.replica(0).name()), failure.getMessage());
            assertEquals(0, mesh.replica(0).describe().getCachedSequences());

            // the router drops sequence 3 and runs the step again; the others decode as in one process
            mesh.transformer.release(3);
            long[] survivors = {1, 2};
            int[][] prompts = {{1, 403}, {1, 407, 261}};
            assertArrayEquals(reference.prefill(survivors, prompts), remote.prefill(survivors, prompts));
            for (int step = 0; step < 10; step++) {
                int[] next = reference.argmaxTokens();
                assertArrayEquals(reference.decode(survivors, next), remote.decode(survivors, next), "decode step " + step);
            }
            assertEquals(2, mesh.replica(0).describe().getCachedSequences());
        }
    }

    @Test
    void tokenLimitRejectsGrowingSequences() throws Exception {
        AttentionLimits limits = new AttentionLimits(8, 10, Duration.ofMinutes(10), CONTEXT);
        try (RemoteMesh mesh = new RemoteMesh(TestModels.stories(), Collections.singletonList(null), limits,
                WireDType.WIRE_DTYPE_F32)) {
            StepRunner remote = new StepRunner(mesh.transformer);
            remote.prefill(new long[] {1, 2}, new int[][] {{1, 403, 407, 261}, {1, 403, 407, 261, 378}});
            assertEquals(9, mesh.replica(0).describe().getCachedTokens());

            // one more token each: sequence 1 reaches the limit of 10, sequence 2 would pass it
            SequenceFailedException failure = assertThrows(SequenceFailedException.class,
                    () -> remote.decode(new long[] {1, 2}, new int[] {5, 5}));
            assertArrayEquals(new long[] {2}, failure.sequenceIds());
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, failure.status().getCode());
            assertTrue(failure.getMessage().contains("max-cached-tokens limit is 10"), failure.getMessage());
            assertEquals(9, mesh.replica(0).describe().getCachedTokens());

            mesh.transformer.release(2);
            remote.decode(new long[] {1}, new int[] {5});
            assertTrue(mesh.attention.flushReleases(Duration.ofSeconds(30)));
            AttentionInfo info = mesh.replica(0).describe();
            assertEquals(1, info.getCachedSequences());
            assertEquals(5, info.getCachedTokens());
        }
    }

    @Test
    void releaseFreesTheCaches() throws Exception {
        try (RemoteMesh mesh = RemoteMesh.single(TestModels.stories(), WireDType.WIRE_DTYPE_F32)) {
            StepRunner remote = new StepRunner(mesh.transformer);
            remote.prefill(new long[] {1, 2}, new int[][] {{1, 403, 407}, {1, 403}});
            AttentionInfo before = mesh.replica(0).describe();
            assertEquals(2, before.getCachedSequences());
            assertEquals(5, before.getCachedTokens());
            assertTrue(before.getCacheBytes() > 0);

            mesh.transformer.release(1);
            assertTrue(mesh.attention.flushReleases(Duration.ofSeconds(30)));
            AttentionInfo afterFirst = mesh.replica(0).describe();
            assertEquals(1, afterFirst.getCachedSequences());
            assertEquals(2, afterFirst.getCachedTokens());

            mesh.transformer.release(2);
            assertTrue(mesh.attention.flushReleases(Duration.ofSeconds(30)));
            AttentionInfo none = mesh.replica(0).describe();
            assertEquals(0, none.getCachedSequences());
            assertEquals(0, none.getCachedTokens());
            assertEquals(0, none.getCacheBytes());
            assertEquals(Collections.singletonMap(mesh.replica(0).name(), 0), mesh.attention.pinnedSequences());
        }
    }

    @Test
    void routerStreamCloseFreesCaches() throws Exception {
        try (RemoteMesh mesh = RemoteMesh.single(TestModels.stories(), WireDType.WIRE_DTYPE_F32)) {
            new StepRunner(mesh.transformer).prefill(new long[] {1, 2}, new int[][] {{1, 403, 407}, {1, 403}});
            assertEquals(2, mesh.replica(0).describe().getCachedSequences());

            mesh.attention.close();
            awaitCachedSequences(mesh.replica(0), 0);
            assertEquals(0, mesh.replica(0).describe().getCachedTokens());
        }
    }

    @Test
    void cancelledStreamFreesCaches() throws Exception {
        try (RunningReplica replica = RunningReplica.start(TestModels.stories(), null,
                RunningReplica.roomyLimits(CONTEXT))) {
            int hidden = replica.server().model().config().hiddenSize();
            RawForwardStream stream = new RawForwardStream(replica.channel());
            AttentionResponse opened = stream.send(RawForwardStream.request(1, 0, new long[] {42, 43},
                    new int[] {0, 0}, hidden, 0.5f));
            assertFalse(opened.hasFailure(), opened.getFailure().getMessage());
            assertEquals(2, replica.describe().getCachedSequences());

            stream.cancel();
            awaitCachedSequences(replica, 0);
        }
    }

    @Test
    void otherStreamsSequenceIsRejected() throws Exception {
        try (RunningReplica replica = RunningReplica.start(TestModels.stories(), null,
                RunningReplica.roomyLimits(CONTEXT))) {
            int hidden = replica.server().model().config().hiddenSize();
            RawForwardStream first = new RawForwardStream(replica.channel());
            RawForwardStream second = new RawForwardStream(replica.channel());
            assertFalse(first.send(RawForwardStream.request(1, 0, new long[] {77}, new int[] {0}, hidden, 1f))
                    .hasFailure());

            AttentionResponse clash = second.send(RawForwardStream.request(1, 0, new long[] {77}, new int[] {1},
                    hidden, 1f));
            assertEquals(Status.Code.FAILED_PRECONDITION.value(), clash.getFailure().getCode());
            assertEquals(List.of(77L), clash.getFailure().getSequenceIdsList());
            assertTrue(clash.getFailure().getMessage().contains("unique across routers"));
            first.close();
            second.close();
        }
    }

    /** Invalid requests each get INVALID_ARGUMENT (or OUT_OF_RANGE) naming the fix, and the stream goes on. */
    @Test
    void invalidRequestsKeepStreamUsable() throws Exception {
        try (RunningReplica replica = RunningReplica.start(TestModels.stories(), null,
                RunningReplica.roomyLimits(CONTEXT))) {
            int hidden = replica.server().model().config().hiddenSize();
            RawForwardStream stream = new RawForwardStream(replica.channel());

            record Case(String name, AttentionRequest request, Status.Code code, String hint) {
            }
            AttentionRequest wideHidden = RawForwardStream.request(1, 0, new long[] {1}, new int[] {0}, hidden, 1f)
                    .toBuilder()
                    .setHidden(TensorCodec.encode(new float[hidden + 1], 1, hidden + 1, WireDType.WIRE_DTYPE_F32))
                    .build();
            List<Case> cases = List.of(
                    new Case("layer outside the range", RawForwardStream.request(1, 99, new long[] {1}, new int[] {0},
                            hidden, 1f), Status.Code.INVALID_ARGUMENT, "outside the layers [0, 5)"),
                    new Case("no rows", RawForwardStream.request(2, 0, new long[0], new int[0], hidden, 1f),
                            Status.Code.INVALID_ARGUMENT, "no rows"),
                    new Case("fewer positions than rows", RawForwardStream.request(3, 0, new long[] {1, 1},
                            new int[] {0}, hidden, 1f).toBuilder().setHidden(TensorCodec.encode(new float[2 * hidden],
                            2, hidden, WireDType.WIRE_DTYPE_F32)).build(), Status.Code.INVALID_ARGUMENT,
                            "one position per row"),
                    new Case("hidden tensor of the wrong width", wideHidden, Status.Code.INVALID_ARGUMENT,
                            "rows x hidden_size (1 x " + hidden + ")"),
                    new Case("positions that skip one", RawForwardStream.request(4, 0, new long[] {5, 5},
                            new int[] {0, 2}, hidden, 1f), Status.Code.INVALID_ARGUMENT, "consecutive increasing"),
                    new Case("positions that go back", RawForwardStream.request(5, 0, new long[] {5, 5},
                            new int[] {1, 0}, hidden, 1f), Status.Code.INVALID_ARGUMENT, "consecutive increasing"),
                    new Case("start past the cached length", RawForwardStream.request(6, 0, new long[] {6},
                            new int[] {3}, hidden, 1f), Status.Code.INVALID_ARGUMENT,
                            "sequence 6 has 0 cached tokens but its rows start at position 3"),
                    new Case("position past the context", RawForwardStream.request(7, 0, new long[] {7},
                            new int[] {CONTEXT}, hidden, 1f), Status.Code.OUT_OF_RANGE, "context length of 128"),
                    new Case("a step that was never opened", RawForwardStream.request(8, 1, new long[] {8},
                            new int[] {0}, hidden, 1f), Status.Code.INVALID_ARGUMENT, "step 8 is not open"));
            for (Case invalid : cases) {
                AttentionResponse response = stream.send(invalid.request());
                assertTrue(response.hasFailure(), invalid.name() + " was accepted");
                assertFalse(response.hasOutput(), invalid.name());
                assertEquals(invalid.code().value(), response.getFailure().getCode(), invalid.name());
                assertTrue(response.getFailure().getMessage().contains(invalid.hint()),
                        invalid.name() + ": " + response.getFailure().getMessage());
            }
            assertEquals(0, replica.describe().getCachedSequences(), "a rejected step admitted a sequence");

            // layers of an open step must come in order and carry the step's rows
            AttentionResponse first = stream.send(RawForwardStream.request(10, 0, new long[] {9, 9}, new int[] {0, 1},
                    hidden, 1f));
            assertFalse(first.hasFailure(), first.getFailure().getMessage());
            AttentionResponse skipped = stream.send(RawForwardStream.request(10, 2, new long[] {9, 9},
                    new int[] {0, 1}, hidden, 1f));
            assertTrue(skipped.getFailure().getMessage().contains("expects layer 1 next, got layer 2"),
                    skipped.getFailure().getMessage());

            AttentionResponse reopened = stream.send(RawForwardStream.request(11, 0, new long[] {9, 9},
                    new int[] {0, 1}, hidden, 1f));
            assertFalse(reopened.hasFailure());
            AttentionResponse otherRows = stream.send(RawForwardStream.request(11, 1, new long[] {9},
                    new int[] {0}, hidden, 1f));
            assertTrue(otherRows.getFailure().getMessage().contains("same sequence ids and positions"),
                    otherRows.getFailure().getMessage());

            // the stream still runs a whole valid step
            for (int layer = 0; layer < 5; layer++) {
                AttentionResponse valid = stream.send(RawForwardStream.request(12, layer, new long[] {9, 9, 9},
                        new int[] {0, 1, 2}, hidden, 1f));
                assertFalse(valid.hasFailure(), "layer " + layer + ": " + valid.getFailure().getMessage());
                assertEquals(12, valid.getStepId());
                assertEquals(layer, valid.getLayer());
                assertEquals(List.of(3L, (long) hidden), valid.getOutput().getShapeList());
            }
            assertEquals(3, replica.describe().getCachedTokens());
            stream.close();
        }
    }

    private static void awaitCachedSequences(RunningReplica replica, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (replica.describe().getCachedSequences() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, replica.describe().getCachedSequences());
    }

    /** Runs steps on a transformer for a fixed set of sequences and keeps each one's length and last logits. */
    static final class StepRunner {
        private final Transformer model;
        private final int vocab;
        private final java.util.Map<Long, Integer> lengths = new java.util.HashMap<>();
        private float[] lastLogits = new float[0];

        StepRunner(Transformer model) {
            this.model = model;
            this.vocab = model.config().vocabSize();
        }

        /** Runs one step with every prompt token of each sequence; returns the logits of each sequence's last row. */
        float[] prefill(long[] sequenceIds, int[][] prompts) {
            int rows = Arrays.stream(prompts).mapToInt(p -> p.length).sum();
            long[] ids = new long[rows];
            int[] tokens = new int[rows];
            int[] positions = new int[rows];
            int[] logitRows = new int[sequenceIds.length];
            int row = 0;
            for (int s = 0; s < sequenceIds.length; s++) {
                for (int i = 0; i < prompts[s].length; i++) {
                    ids[row] = sequenceIds[s];
                    tokens[row] = prompts[s][i];
                    positions[row] = i;
                    row++;
                }
                logitRows[s] = row - 1;
            }
            float[] logits = new float[sequenceIds.length * vocab];
            model.step(ids, tokens, positions, rows, logitRows, sequenceIds.length, logits);
            for (int s = 0; s < sequenceIds.length; s++) {
                lengths.put(sequenceIds[s], prompts[s].length);
            }
            lastLogits = logits;
            return logits;
        }

        /** Runs one decode step: token {@code tokens[i]} for sequence {@code sequenceIds[i]} at its next position. */
        float[] decode(long[] sequenceIds, int[] tokens) {
            int rows = sequenceIds.length;
            int[] positions = new int[rows];
            int[] logitRows = new int[rows];
            for (int i = 0; i < rows; i++) {
                positions[i] = lengths.get(sequenceIds[i]);
                logitRows[i] = i;
            }
            float[] logits = new float[rows * vocab];
            model.step(sequenceIds, tokens, positions, rows, logitRows, rows, logits);
            for (long id : sequenceIds) {
                lengths.merge(id, 1, Integer::sum);
            }
            lastLogits = logits;
            return logits;
        }

        /** Returns the greedy token of each row of the last step. */
        int[] argmaxTokens() {
            int[] tokens = new int[lastLogits.length / vocab];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = Generations.argmax(Arrays.copyOfRange(lastLogits, i * vocab, (i + 1) * vocab));
            }
            return tokens;
        }
    }
}
