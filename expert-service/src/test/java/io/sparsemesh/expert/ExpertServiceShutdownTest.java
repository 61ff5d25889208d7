package io.sparsemesh.expert;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.Channels;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing the Spring context (what SIGTERM does) drains the service before the gRPC server stops:
 * an open stream ends with the service's UNAVAILABLE "shutting down" status rather than waiting
 * out the grace period and being cut off.
 */
class ExpertServiceShutdownTest {

    @Test
    void contextCloseDrainsOpenStreams() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ExpertServiceApplication.class).run(
                "--spring.grpc.server.port=0",
                "--server.port=0",
                "--sparsemesh.expert.model=" + TestModels.stories(),
                "--sparsemesh.expert.shard-count=2",
                "--sparsemesh.expert.shard=1");
        int port = context.getBean(GrpcServerLifecycle.class).getPort();
        ManagedChannel channel = Channels.open("127.0.0.1:" + port, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
        try {
            int hidden = 64;
            ForwardCalls calls = ForwardCalls.open(channel);
            calls.send(ExpertRequest.newBuilder().setCallId(1).setLayer(3).setDense(true)
                    .setHidden(TensorCodec.encode(new float[hidden], 1, hidden, WireDType.WIRE_DTYPE_F32)).build());
            calls.awaitResponses(1);

            context.close();

            Status end = calls.awaitEnd();
            assertEquals(Status.Code.UNAVAILABLE, end.getCode(), end.toString());
            assertTrue(end.getDescription().contains("expert shard 1 is shutting down"), end.getDescription());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            context.close();
        }
    }
}
