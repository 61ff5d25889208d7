package io.sparsemesh.expert;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.Replica;
import io.sparsemesh.transport.experts.RemoteExperts;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request deadlines: a replica that stops responding is left for another, and streams are renewed before their gRPC deadline. */
class RemoteExpertsTimeoutTest {

    static final int ROWS = 4;

    @Test
    void silentReplicaIsLeftForAnother() throws Exception {
        HeldResponses silent = new HeldResponses(message -> true);
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.deepseekTiny(), null);
             ShardCluster cluster = ShardCluster.start(TestModels.deepseekTiny(), 2, 2, DensePlacement.SHARDS,
                     (shard, replica, server) -> shard == 1 && replica == 0 ? List.of(silent) : List.of())) {
            List<EndpointGroup> groups = cluster.groups(Duration.ofMinutes(1));
            // generous enough for a first call on a cold connection of a busy machine
            RemoteExperts.Options options = new RemoteExperts.Options(WireDType.WIRE_DTYPE_F32, Duration.ofSeconds(2),
                    Duration.ofMinutes(1));
            try (RemoteExperts experts = new RemoteExperts(cluster.layout(), 64, groups, options)) {
                float[] input = randomRows();
                ExpertRouting routing = routing();
                float[] expected = wholeLayer(checkpoint, input, routing);
                for (int call = 0; call < 4; call++) {
                    float[] output = new float[ROWS * 64];
                    experts.forwardRouted(1, input, ROWS, routing, output);
                    assertArrayEquals(expected, output, "call " + call);
                }
                assertTrue(silent.count() >= 1, "the silent replica never received a request");
                Replica silentReplica = groups.get(1).replicas().stream()
                        .filter(replica -> replica.target().equals(cluster.node(1, 0).target())).findFirst().orElseThrow();
                assertTrue(silentReplica.consecutiveFailures() >= 1, "the silent replica was not marked unhealthy");
            } finally {
                silent.release();
            }
        }
    }

    @Test
    void streamsAreRenewedBeforeTheirDeadline() throws Exception {
        AtomicInteger streams = new AtomicInteger();
        ServerInterceptor counting = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                streams.incrementAndGet();
                return next.startCall(call, headers);
            }
        };
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.deepseekTiny(), null);
             ShardCluster cluster = ShardCluster.start(TestModels.deepseekTiny(), 1, 1, DensePlacement.SHARDS,
                     (shard, replica, server) -> List.of(counting))) {
            // a stream takes requests while more than the request timeout (1 s) is left of its 2 s
            RemoteExperts.Options options = new RemoteExperts.Options(WireDType.WIRE_DTYPE_F32, Duration.ofSeconds(1),
                    Duration.ofSeconds(2));
            try (RemoteExperts experts = new RemoteExperts(cluster.layout(), 64, cluster.groups(Duration.ofMinutes(1)),
                    options)) {
                float[] input = randomRows();
                ExpertRouting routing = routing();
                float[] expected = wholeLayer(checkpoint, input, routing);
                float[] output = new float[ROWS * 64];
                experts.forwardRouted(1, input, ROWS, routing, output);
                assertArrayEquals(expected, output, "first call");

                Thread.sleep(1100);
                experts.forwardRouted(1, input, ROWS, routing, output);
                assertArrayEquals(expected, output, "call after renewal");
                assertTrue(streams.get() >= 2, "the stream was not renewed: " + streams.get() + " streams opened");
            }
        }
    }

    /** Rows routed over both shards: every row has one even (shard 0) and one odd (shard 1) expert. */
    private static ExpertRouting routing() {
        return new ExpertRouting(ROWS, 2, new int[] {0, 1, 3, 2, 4, 5, 7, 6},
                new float[] {0.5f, 0.5f, 1f, 0.25f, 0.75f, 1.5f, 0.5f, 0.125f});
    }

    private static float[] wholeLayer(ModelCheckpoint checkpoint, float[] input, ExpertRouting routing) {
        ExpertShard whole = ExpertShard.load(checkpoint.store(), checkpoint.config(), new ShardLayout(1), 0,
                DensePlacement.ROUTER);
        float[] output = new float[ROWS * 64];
        whole.forwardRouted(1, input, ROWS, routing, output);
        return output;
    }

    private static float[] randomRows() {
        Random random = new Random(11);
        float[] values = new float[ROWS * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
