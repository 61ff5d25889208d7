package io.sparsemesh.transport.attention;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A replica that takes requests and never responds: the response deadline ends its sequences. */
class UnresponsiveReplicaTest {

    /** Reads every Forward request and sends no response, as a hung replica would, and counts cancelled streams. */
    private static final class SilentAttention extends AttentionGrpc.AttentionImplBase {
        final CountDownLatch cancelled = new CountDownLatch(1);

        @Override
        public StreamObserver<AttentionRequest> forward(StreamObserver<AttentionResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(AttentionRequest request) {
                }

                @Override
                public void onError(Throwable error) {
                    cancelled.countDown();
                }

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }
    }

    @Test
    void missedDeadlineFailsSequences() throws Exception {
        String name = InProcessServerBuilder.generateName();
        SilentAttention silent = new SilentAttention();
        Server server = InProcessServerBuilder.forName(name).addService(silent).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        RemoteAttentionOptions options = RemoteAttentionOptions.defaults().withResponseTimeout(Duration.ofMillis(200));
        try (RemoteAttention attention = new RemoteAttention(1, 4,
                Map.of(new AttentionReplica("silent", channel), LayerRange.all(1)), options)) {
            AttentionBackend.AttentionStep step = attention.beginStep(new long[] {5, 5, 6}, new int[] {0, 1, 0}, 3);
            SequenceFailedException failure = assertThrows(SequenceFailedException.class,
                    () -> step.forward(0, new float[12], new float[12]));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, failure.status().getCode());
            assertArrayEquals(new long[] {5, 6}, failure.sequenceIds());
            assertTrue(failure.getMessage().contains("attention replica silent did not answer layer 0"),
                    failure.getMessage());
            assertTrue(silent.cancelled.await(30, TimeUnit.SECONDS), "the stream was not cancelled");

            // the stream that held their caches is gone, so the next step fails them before sending
            SequenceFailedException lost = assertThrows(SequenceFailedException.class,
                    () -> attention.beginStep(new long[] {6}, new int[] {1}, 1));
            assertArrayEquals(new long[] {6}, lost.sequenceIds());
            assertTrue(lost.getMessage().contains("start them again from position 0"), lost.getMessage());
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }
}
