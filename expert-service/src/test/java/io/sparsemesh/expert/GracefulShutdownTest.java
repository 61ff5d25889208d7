package io.sparsemesh.expert;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.Channels;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shutdown as the Spring service runs it (drain, {@code Server.shutdown()}, wait for termination):
 * a request being computed when shutdown begins gets its full response, its stream then ends with
 * UNAVAILABLE, idle streams end at once, and new streams are turned away.
 */
class GracefulShutdownTest {

    static final int HIDDEN = 64;
    static final long HELD_CALL = 42;

    @Test
    void inFlightRequestFinishes() throws Exception {
        HeldResponses held = new HeldResponses(
                message -> message instanceof ExpertResponse response && response.getCallId() == HELD_CALL);
        try (HostedShard hosted = HostedShard.load(TestModels.deepseekTiny(), 0, 1, DensePlacement.SHARDS)) {
            ExpertsGrpcService service = new ExpertsGrpcService(hosted, new SimpleMeterRegistry(), 4096);
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(ServerInterceptors.intercept(service, held))
                    .build()
                    .start();
            ManagedChannel channel = Channels.open("127.0.0.1:" + server.getPort(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
            try {
                float[] input = new float[2 * HIDDEN];
                for (int i = 0; i < input.length; i++) {
                    input[i] = (i % 7) * 0.25f - 0.5f;
                }
                ExpertRequest request = ExpertRequest.newBuilder().setCallId(HELD_CALL).setLayer(0).setDense(true)
                        .setHidden(TensorCodec.encode(input, 2, HIDDEN, WireDType.WIRE_DTYPE_F32))
                        .setResponseDtype(WireDType.WIRE_DTYPE_F32).build();

                // an idle stream (its request has its response), and a stream whose response is held on its way out
                ForwardCalls idle = ForwardCalls.open(channel);
                idle.send(request.toBuilder().setCallId(1).build());
                idle.awaitResponses(1);
                ForwardCalls busy = ForwardCalls.open(channel);
                busy.send(request);
                held.awaitHeld();

                // shutdown begins while that request is in flight
                service.drain();
                server.shutdown();

                assertEquals(Status.Code.UNAVAILABLE, ForwardCalls.errorOf(channel, request).getCode(),
                        "a stream opened after shutdown began");
                Status idleEnd = idle.awaitEnd();
                assertEquals(Status.Code.UNAVAILABLE, idleEnd.getCode(), idleEnd.toString());
                assertFalse(server.isTerminated(), "the server ended before its in-flight request was answered");
                assertEquals(1, service.activeRequests());
                assertTrue(busy.responses.isEmpty());

                // once the request completes, its stream ends and the server terminates
                held.release();
                assertTrue(server.awaitTermination(30, TimeUnit.SECONDS), "the server did not terminate");
                Status busyEnd = busy.awaitEnd();
                assertEquals(Status.Code.UNAVAILABLE, busyEnd.getCode(), busyEnd.toString());
                assertTrue(busyEnd.getDescription().contains("shutting down"), busyEnd.getDescription());
                assertEquals(0, service.activeStreams());

                // the held response arrived complete, and is the shard's result
                assertEquals(1, busy.responses.size());
                assertEquals(HELD_CALL, busy.responses.getFirst().getCallId());
                float[] expected = new float[2 * HIDDEN];
                hosted.experts().forwardDense(0, input, 2, expected);
                float[] received = new float[2 * HIDDEN];
                TensorCodec.decode(busy.responses.getFirst().getOutput(), 2, HIDDEN, received);
                assertArrayEquals(expected, received);
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }
}
