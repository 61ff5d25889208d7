package io.sparsemesh.expert;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import io.sparsemesh.transport.experts.RemoteExperts;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Expert shards × replicas of one model, each replica its own loaded shard and its own gRPC
 * server on a random loopback port, as separate pods would be.
 */
final class ShardCluster implements AutoCloseable {

    /** Interceptors to install on one replica's server; the replica's server is passed so an interceptor can stop it. */
    @FunctionalInterface
    interface Interceptors {
        List<ServerInterceptor> forReplica(int shard, int replica, ServerRef server);

        Interceptors NONE = (shard, replica, server) -> List.of();
    }

    /** The server of a replica, set once it has started. */
    static final class ServerRef {
        volatile Server server;
    }

    /** One replica; {@code target} is its loopback address, kept after its server stops. */
    record Node(int shard, int replica, HostedShard hosted, ExpertsGrpcService service, Server server, String target) {
    }

    private final Path model;
    private final ShardLayout layout;
    private final List<List<Node>> nodes;

    private ShardCluster(Path model, ShardLayout layout, List<List<Node>> nodes) {
        this.model = model;
        this.layout = layout;
        this.nodes = nodes;
    }

    static ShardCluster start(Path model, int shards, int replicas, DensePlacement placement, Interceptors interceptors)
            throws IOException {
        List<List<Node>> nodes = new ArrayList<>();
        for (int shard = 0; shard < shards; shard++) {
            List<Node> shardNodes = new ArrayList<>();
            for (int replica = 0; replica < replicas; replica++) {
                HostedShard hosted = HostedShard.load(model, shard, shards, placement);
                ExpertsGrpcService service = new ExpertsGrpcService(hosted, new SimpleMeterRegistry(), 4096);
                ServerRef ref = new ServerRef();
                ref.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        .addService(ServerInterceptors.intercept(service, interceptors.forReplica(shard, replica, ref)))
                        .build()
                        .start();
                shardNodes.add(new Node(shard, replica, hosted, service, ref.server, "127.0.0.1:" + ref.server.getPort()));
            }
            nodes.add(shardNodes);
        }
        return new ShardCluster(model, new ShardLayout(shards), nodes);
    }

    Node node(int shard, int replica) {
        return nodes.get(shard).get(replica);
    }

    ShardLayout layout() {
        return layout;
    }

    /** Returns one endpoint group per shard, listing its replicas' loopback targets. */
    List<EndpointGroup> groups(Duration retryAfter) {
        List<EndpointGroup> groups = new ArrayList<>();
        for (List<Node> shardNodes : nodes) {
            List<String> targets = shardNodes.stream().map(Node::target).toList();
            groups.add(EndpointGroup.open("expert-shard-" + shardNodes.getFirst().shard(), new TargetSource.Static(targets),
                    retryAfter));
        }
        return groups;
    }

    RemoteExperts remoteExperts(int hiddenSize, RemoteExperts.Options options) {
        return new RemoteExperts(layout, hiddenSize, groups(Duration.ofMinutes(1)), options);
    }

    /** Stops a replica's server at once, cancelling its calls, as when its process dies. */
    void kill(int shard, int replica) throws InterruptedException {
        Server server = node(shard, replica).server();
        server.shutdownNow();
        server.awaitTermination(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        for (List<Node> shardNodes : nodes) {
            for (Node node : shardNodes) {
                node.server().shutdownNow();
                node.server().awaitTermination(30, TimeUnit.SECONDS);
                node.hosted().close();
            }
        }
    }

    @Override
    public String toString() {
        return model.getFileName() + " on " + layout.shardCount() + " shards";
    }
}
