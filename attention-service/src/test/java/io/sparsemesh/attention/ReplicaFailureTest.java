package io.sparsemesh.attention;

import io.grpc.Status;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.attention.LayerRange;
import io.sparsemesh.transport.attention.RemoteAttentionOptions;
import io.sparsemesh.transport.attention.SequenceFailedException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A replica that dies mid-run ends its own sequences; the other replica's go on unchanged. */
class ReplicaFailureTest {

    @Test
    void killedReplicaFailsOnlyItsSequences() {
        // a long back-off keeps new sequences off the dead replica however slowly the test runs
        RemoteAttentionOptions options = RemoteAttentionOptions.defaults()
                .withWireDType(WireDType.WIRE_DTYPE_F32)
                .withReconnectBackoff(Duration.ofHours(1));
        List<LayerRange> allLayers = Arrays.asList(null, null);
        try (RemoteMesh mesh = new RemoteMesh(TestModels.stories(), allLayers,
                RunningReplica.roomyLimits(RemoteMesh.defaultContext(TestModels.stories())), options);
             Transformer local = mesh.localTransformer()) {
            AttentionLimitsTest.StepRunner remote = new AttentionLimitsTest.StepRunner(mesh.transformer);
            AttentionLimitsTest.StepRunner reference = new AttentionLimitsTest.StepRunner(local);
            long[] both = {1, 2};
            int[][] prompts = {{1, 403, 407}, {1, 403}};
            assertArrayEquals(reference.prefill(both, prompts), remote.prefill(both, prompts));
            assertEquals(Map.of(mesh.replica(0).name(), 1, mesh.replica(1).name(), 1), mesh.attention.pinnedSequences());
            for (int step = 0; step < 3; step++) {
                int[] next = reference.argmaxTokens();
                assertArrayEquals(reference.decode(both, next), remote.decode(both, next));
            }

            RunningReplica holder = mesh.replica(0).server().registry().length(2) >= 0 ? mesh.replica(0) : mesh.replica(1);
            RunningReplica survivor = holder == mesh.replica(0) ? mesh.replica(1) : mesh.replica(0);
            assertEquals(5, holder.server().registry().length(2));
            holder.kill();

            int[] next = reference.argmaxTokens();
            SequenceFailedException failure = assertThrows(SequenceFailedException.class, () -> remote.decode(both, next));
            assertArrayEquals(new long[] {2}, failure.sequenceIds());
            assertEquals(Status.Code.UNAVAILABLE, failure.status().getCode(), failure.getMessage());
            assertTrue(failure.getMessage().contains(holder.name()), failure.getMessage());

            // the router ends sequence 2 and runs the step again for sequence 1, which goes on as in one process
            mesh.transformer.release(2);
            long[] first = {1};
            int[] token = {next[0]};
            assertArrayEquals(reference.decode(first, token), remote.decode(first, token));
            for (int step = 0; step < 5; step++) {
                int[] greedy = reference.argmaxTokens();
                assertArrayEquals(reference.decode(first, greedy), remote.decode(first, greedy), "decode step " + step);
            }

            // a new sequence goes to the replica that still runs
            assertArrayEquals(reference.prefill(new long[] {3}, new int[][] {{1, 407}}),
                    remote.prefill(new long[] {3}, new int[][] {{1, 407}}));
            assertEquals(2, survivor.describe().getCachedSequences());
        }
    }

    @Test
    void newSequencesAvoidDeadReplica() throws Exception {
        // a short back-off: after it, only the channel's state keeps new sequences off the dead replica
        RemoteAttentionOptions options = RemoteAttentionOptions.defaults()
                .withWireDType(WireDType.WIRE_DTYPE_F32)
                .withReconnectBackoff(Duration.ofMillis(10))
                .withResponseTimeout(Duration.ofSeconds(20));
        List<LayerRange> allLayers = Arrays.asList(null, null);
        try (RemoteMesh mesh = new RemoteMesh(TestModels.stories(), allLayers,
                RunningReplica.roomyLimits(RemoteMesh.defaultContext(TestModels.stories())), options);
             Transformer local = mesh.localTransformer()) {
            AttentionLimitsTest.StepRunner remote = new AttentionLimitsTest.StepRunner(mesh.transformer);
            AttentionLimitsTest.StepRunner reference = new AttentionLimitsTest.StepRunner(local);
            int[][] prompt = {{1, 403, 407}};
            assertArrayEquals(reference.prefill(new long[] {1}, prompt), remote.prefill(new long[] {1}, prompt));
            RunningReplica dead = mesh.replica(0).server().registry().length(1) >= 0 ? mesh.replica(0) : mesh.replica(1);
            RunningReplica survivor = dead == mesh.replica(0) ? mesh.replica(1) : mesh.replica(0);
            dead.kill();

            // sequence 1's stream ends; every later sequence runs on the survivor, none fails
            assertThrows(SequenceFailedException.class, () -> remote.decode(new long[] {1}, reference.argmaxTokens()));
            mesh.transformer.release(1);
            for (long id = 10; id < 16; id++) {
                Thread.sleep(20); // past the back-off
                long[] sequence = {id};
                assertArrayEquals(reference.prefill(sequence, prompt), remote.prefill(sequence, prompt),
                        "sequence " + id);
            }
            assertEquals(6, survivor.describe().getCachedSequences());
        }
    }
}
