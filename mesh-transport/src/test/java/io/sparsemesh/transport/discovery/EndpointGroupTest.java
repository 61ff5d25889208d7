package io.sparsemesh.transport.discovery;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndpointGroupTest {

    static final Duration LONG = Duration.ofHours(1);

    @Test
    void roundRobinOverReplicas() {
        try (EndpointGroup group = staticGroup(LONG, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")) {
            List<String> chosen = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                chosen.add(group.choose(Set.of()).target());
            }
            assertEquals(List.of("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"),
                    chosen);
        }
    }

    @Test
    void failedReplicaSitsOut() {
        try (EndpointGroup group = staticGroup(LONG, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")) {
            Replica failed = group.replicas().get(1);
            group.markFailed(failed, new IllegalStateException("connection refused"));
            assertEquals(1, failed.consecutiveFailures());
            for (int i = 0; i < 10; i++) {
                assertNotEquals(failed, group.choose(Set.of()), "choice " + i);
            }

            // when every healthy replica has been tried, the unhealthy one is the last resort
            Set<Replica> tried = new HashSet<>(List.of(group.replicas().get(0), group.replicas().get(2)));
            assertSame(failed, group.choose(tried));
            tried.add(failed);
            assertNull(group.choose(tried));

            group.markSucceeded(failed);
            assertEquals(0, failed.consecutiveFailures());
            Set<Replica> chosen = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                chosen.add(group.choose(Set.of()));
            }
            assertTrue(chosen.contains(failed), "a recovered replica is back in the rotation");
        }
    }

    @Test
    void sitOutEndsAfterRetryDelay() {
        try (EndpointGroup group = staticGroup(Duration.ZERO, "127.0.0.1:1", "127.0.0.1:2")) {
            Replica failed = group.replicas().get(0);
            group.markFailed(failed, new IllegalStateException("timed out"));
            Set<Replica> chosen = new HashSet<>();
            for (int i = 0; i < 2; i++) {
                chosen.add(group.choose(Set.of()));
            }
            assertTrue(chosen.contains(failed), "a replica whose sit-out has passed is eligible again");
            assertEquals(1, failed.consecutiveFailures(), "it stays marked until a call succeeds");
        }
    }

    @Test
    void sitOutDoublesWhileReplicaKeepsFailing() {
        try (EndpointGroup group = staticGroup(Duration.ofSeconds(2), "127.0.0.1:1")) {
            Replica failing = group.replicas().get(0);
            long retryAfter = Duration.ofSeconds(2).toNanos();
            assertEquals(retryAfter, failing.recordFailure(retryAfter));
            assertEquals(2 * retryAfter, failing.recordFailure(retryAfter));
            assertEquals(4 * retryAfter, failing.recordFailure(retryAfter));
            for (int i = 0; i < 10; i++) {
                failing.recordFailure(retryAfter);
            }
            assertEquals(retryAfter << Replica.MAX_SIT_OUT_DOUBLINGS, failing.recordFailure(retryAfter),
                    "the sit-out stops growing");

            group.markSucceeded(failing);
            assertEquals(retryAfter, failing.recordFailure(retryAfter), "a success starts the doubling over");
        }
    }

    @Test
    void dnsRefreshFollowsTheRecords() throws Exception {
        AtomicReference<InetAddress[]> records = new AtomicReference<>(addresses("10.0.0.2", "10.0.0.1"));
        List<String> opened = new ArrayList<>();
        EndpointGroup group = new EndpointGroup("expert-shard-0", new TargetSource.Dns("experts-0", 9084, LONG), LONG,
                target -> {
                    opened.add(target);
                    return Channels.open(target, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
                },
                host -> records.get());
        try (group) {
            assertEquals(List.of("10.0.0.1:9084", "10.0.0.2:9084"), targets(group));
            Replica kept = group.replicas().get(1);
            Replica leaving = group.replicas().get(0);
            AtomicBoolean streamsClosed = new AtomicBoolean();
            leaving.attachment("streams", replica -> () -> streamsClosed.set(true));
            ManagedChannel keptChannel = kept.channel();

            // a scale-out and a pod replaced: 10.0.0.1 leaves, 10.0.0.3 joins
            records.set(addresses("10.0.0.3", "10.0.0.2"));
            group.refresh();
            assertEquals(List.of("10.0.0.2:9084", "10.0.0.3:9084"), targets(group));
            assertSame(kept, group.replicas().get(0), "an address that stays keeps its replica");
            assertSame(keptChannel, kept.channel(), "and its channel");
            assertTrue(streamsClosed.get(), "the leaving replica's client state was closed");
            assertThrows(IllegalStateException.class, leaving::channel);

            // a failed lookup keeps the replicas
            records.set(null);
            EndpointGroup failing = new EndpointGroup("expert-shard-1", new TargetSource.Dns("experts-1", 9084, LONG), LONG,
                    target -> Channels.open(target, 1 << 20), host -> {
                        throw new UnknownHostException(host);
                    });
            try (failing) {
                assertEquals(List.of(), failing.replicas());
                assertNull(failing.choose(Set.of()));
                assertThrows(UnknownHostException.class, failing::refresh);
            }
            assertEquals(List.of("10.0.0.2:9084"), opened);
        }
        assertEquals(List.of(), group.replicas());
    }

    @Test
    void dnsPrefersIpv4Records() throws Exception {
        try (EndpointGroup group = new EndpointGroup("attention", new TargetSource.Dns("attention", 9083, LONG), LONG,
                target -> Channels.open(target, 1 << 20), host -> addresses("::1", "127.0.0.1"))) {
            assertEquals(List.of("127.0.0.1:9083"), targets(group));
        }
        try (EndpointGroup group = new EndpointGroup("attention", new TargetSource.Dns("attention", 9083, LONG), LONG,
                target -> Channels.open(target, 1 << 20), host -> addresses("::1"))) {
            assertEquals(List.of("[0:0:0:0:0:0:0:1]:9083"), targets(group));
        }
    }

    @Test
    void channelsReachLoopbackAndInProcessServers() throws Exception {
        Server tcp = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new NamedShard("tcp")).build().start();
        Server inProcess = InProcessServerBuilder.forName("endpoint-group-test").addService(new NamedShard("in-process"))
                .build().start();
        try (EndpointGroup byDns = EndpointGroup.open("by-dns",
                TargetSource.parse("dns:///localhost:" + tcp.getPort(), LONG), LONG);
             EndpointGroup embedded = EndpointGroup.open("embedded",
                     TargetSource.parse("in-process:endpoint-group-test", LONG), LONG)) {
            assertEquals(List.of("127.0.0.1:" + tcp.getPort()), targets(byDns));
            assertEquals("tcp", describe(byDns.choose(Set.of())).getModel());
            assertEquals("in-process", describe(embedded.choose(Set.of())).getModel());
        } finally {
            tcp.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            inProcess.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void closedGroupRetiresReplicas() {
        EndpointGroup group = staticGroup(LONG, "127.0.0.1:1");
        Replica replica = group.replicas().getFirst();
        ManagedChannel channel = replica.channel();
        group.close();
        assertTrue(channel.isShutdown());
        assertThrows(IllegalStateException.class, replica::channel);
        assertFalse(group.replicas().contains(replica));
    }

    private static EndpointGroup staticGroup(Duration retryAfter, String... targets) {
        return EndpointGroup.open("test", new TargetSource.Static(List.of(targets)), retryAfter);
    }

    private static List<String> targets(EndpointGroup group) {
        return group.replicas().stream().map(Replica::target).toList();
    }

    private static InetAddress[] addresses(String... literals) throws UnknownHostException {
        InetAddress[] addresses = new InetAddress[literals.length];
        for (int i = 0; i < literals.length; i++) {
            addresses[i] = InetAddress.getByName(literals[i]);
        }
        return addresses;
    }

    private static ExpertShardInfo describe(Replica replica) {
        return ExpertsGrpc.newBlockingStub(replica.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                .describe(DescribeExpertsRequest.getDefaultInstance());
    }

    /** An Experts server that only describes itself, by name. */
    private static final class NamedShard extends ExpertsGrpc.ExpertsImplBase {
        private final String name;

        NamedShard(String name) {
            this.name = name;
        }

        @Override
        public void describe(DescribeExpertsRequest request, StreamObserver<ExpertShardInfo> responses) {
            responses.onNext(ExpertShardInfo.newBuilder().setModel(name).build());
            responses.onCompleted();
        }
    }
}
