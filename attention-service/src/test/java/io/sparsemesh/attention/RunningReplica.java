package io.sparsemesh.attention;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.DescribeAttentionRequest;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.LayerRange;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** An attention service on a loopback Netty server with an ephemeral port, and a channel to it. */
final class RunningReplica implements AutoCloseable {

    private final AttentionModel model;
    private final AttentionServer server;
    private final Server grpc;
    private final ManagedChannel channel;
    private final String name;

    private RunningReplica(AttentionModel model, AttentionServer server, Server grpc, ManagedChannel channel, String name) {
        this.model = model;
        this.server = server;
        this.grpc = grpc;
        this.channel = channel;
        this.name = name;
    }

    /** Serves {@code range} (null for all layers) of {@code modelPath} with {@code limits}. */
    static RunningReplica start(Path modelPath, LayerRange range, AttentionLimits limits) {
        ModelCheckpoint checkpoint = Checkpoints.open(modelPath, null);
        ModelConfig config = checkpoint.config();
        AttentionModel model = AttentionModel.load(modelPath.getFileName().toString(), config, checkpoint.store(),
                range == null ? LayerRange.all(config.numLayers()) : range);
        AttentionServer server = new AttentionServer(model, limits, new SimpleMeterRegistry());
        try {
            Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(new AttentionGrpcService(server))
                    .addService(new HealthStatusManager().getHealthService())
                    .maxInboundMessageSize(64 << 20)
                    .build()
                    .start();
            String name = "127.0.0.1:" + grpc.getPort();
            // a direct executor, as the router's channels have (Channels.open)
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpc.getPort())
                    .usePlaintext()
                    .maxInboundMessageSize(64 << 20)
                    .directExecutor()
                    .build();
            return new RunningReplica(model, server, grpc, channel, name);
        } catch (IOException e) {
            server.close();
            model.close();
            throw new UncheckedIOException(e);
        }
    }

    /** Limits large enough not to matter, with the context of {@code config}. */
    static AttentionLimits roomyLimits(int contextLength) {
        return new AttentionLimits(64, 1 << 20, Duration.ofMinutes(10), contextLength);
    }

    AttentionReplica replica() {
        return new AttentionReplica(name, channel);
    }

    String name() {
        return name;
    }

    ManagedChannel channel() {
        return channel;
    }

    AttentionServer server() {
        return server;
    }

    AttentionInfo describe() {
        return AttentionGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .describe(DescribeAttentionRequest.getDefaultInstance());
    }

    /** Stops the gRPC server at once, as a crashed replica would, failing its open streams. */
    void kill() {
        grpc.shutdownNow();
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        grpc.shutdownNow();
        grpc.awaitTermination(10, TimeUnit.SECONDS);
        channel.awaitTermination(10, TimeUnit.SECONDS);
        server.close();
        model.close();
    }
}
