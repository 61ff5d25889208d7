package io.sparsemesh.expert;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.Replica;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.experts.ShardedTransformerLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One replica of an expert shard dies in the middle of a step, with a request of that step on
 * it, while 16 generations run. The request goes again to the shard's other replica, and every
 * generation ends with the single-process engine's tokens.
 */
class ReplicaFailoverTest {

    static final int GENERATIONS = 16;
    static final int TOKENS = 16;

    /** The message on which the dying replica stops: well into the run, long before its end. */
    static final int KILL_AT_MESSAGE = 6;

    @Test
    void replicaDiesMidStep() throws Exception {
        Path model = TestModels.deepseekTiny();
        int[][] prompts = prompts(new Random(7));
        int[][] expected = Generations.local(model, prompts, TOKENS);

        AtomicInteger finished = new AtomicInteger();
        KillOnMessage kill = new KillOnMessage(KILL_AT_MESSAGE, finished);
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
             ShardCluster cluster = ShardCluster.start(model, 2, 2, DensePlacement.SHARDS,
                     (shard, replica, server) -> shard == 1 && replica == 0 ? List.of(kill.interceptor(server)) : List.of())) {
            ModelConfig config = checkpoint.config();
            List<EndpointGroup> groups = cluster.groups(Duration.ofMinutes(1));
            RemoteExperts.Options options = RemoteExperts.Options.defaults().withWireDType(WireDType.WIRE_DTYPE_F32);
            try (RemoteExperts experts = new RemoteExperts(cluster.layout(), config.hiddenSize(), groups, options);
                 Scheduler scheduler = new Scheduler(ShardedTransformerLoader.withLocalAttention(config, checkpoint.store(),
                         Generations.CONTEXT, experts, DensePlacement.SHARDS), EngineOptions.defaults(Generations.CONTEXT))) {

                List<CompletableFuture<int[]>> running = new ArrayList<>();
                for (int[] prompt : prompts) {
                    running.add(Generations.submit(scheduler, prompt, TOKENS).whenComplete((tokens, error) -> finished.incrementAndGet()));
                }
                for (int i = 0; i < GENERATIONS; i++) {
                    assertArrayEquals(expected[i], running.get(i).get(120, TimeUnit.SECONDS), "generation " + i);
                }

                assertTrue(kill.fired(), "the replica was never killed");
                assertTrue(kill.finishedWhenFired() < GENERATIONS,
                        "the kill came after every generation had finished: " + kill.finishedWhenFired());
                assertTrue(cluster.node(1, 0).server().isTerminated(), "the killed replica's server is still running");
                Replica killed = groups.get(1).replicas().stream()
                        .filter(replica -> replica.target().equals(cluster.node(1, 0).target()))
                        .findFirst().orElseThrow();
                assertTrue(killed.consecutiveFailures() >= 1, "the killed replica was not marked unhealthy");
                assertEquals(0, groups.get(1).replicas().stream()
                        .filter(replica -> replica != killed).mapToInt(Replica::consecutiveFailures).sum());
            }
        }
    }

    /** Prompts of 3 to 20 tokens: together they fit one step, so no prompt is split into chunks. */
    private static int[][] prompts(Random random) {
        int[][] prompts = new int[GENERATIONS][];
        for (int i = 0; i < GENERATIONS; i++) {
            prompts[i] = new int[3 + random.nextInt(18)];
            prompts[i][0] = 0; // BOS
            for (int t = 1; t < prompts[i].length; t++) {
                prompts[i][t] = 2 + random.nextInt(254);
            }
        }
        return prompts;
    }

    /**
     * Stops its replica's server (cancelling every call, as when the process dies) on the n-th
     * Forward request it receives, before the service receives that request.
     */
    static final class KillOnMessage {
        private final int killAt;
        private final AtomicInteger finished;
        private final AtomicInteger messages = new AtomicInteger();
        private volatile boolean fired;
        private volatile int finishedWhenFired = -1;

        KillOnMessage(int killAt, AtomicInteger finished) {
            this.killAt = killAt;
            this.finished = finished;
        }

        boolean fired() {
            return fired;
        }

        int finishedWhenFired() {
            return finishedWhenFired;
        }

        ServerInterceptor interceptor(ShardCluster.ServerRef server) {
            return new ServerInterceptor() {
                @Override
                public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                                  ServerCallHandler<Q, R> next) {
                    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                        @Override
                        public void onMessage(Q message) {
                            if (messages.incrementAndGet() == killAt) {
                                finishedWhenFired = finished.get();
                                fired = true;
                                server.server.shutdownNow();
                                return;
                            }
                            super.onMessage(message);
                        }
                    };
                }
            };
        }
    }
}
