package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.experts.ShardedTransformerLoader;
import org.junit.jupiter.api.Test;
import org.springframework.context.ApplicationListener;
import org.springframework.grpc.server.lifecycle.GrpcServerShutdownEvent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale-down under load, end to end: the two shards of the committed deployment run two replicas
 * each, as Spring Boot applications with their Deployment's environment, and 24 generations run
 * through them. One replica is stopped the way Kubernetes stops a pod the autoscaler removed (its
 * context closes, as on SIGTERM: the service drains, then the gRPC server shuts down). Its streams
 * end after their current request, the router's client sends later requests to the other replica
 * of the shard, and every generation ends with the single-process engine's tokens.
 */
class ExpertScaleDownTest {

    static final int GENERATIONS = 24;
    static final int TOKENS = 100;
    /** Requests the stopped replica serves before it is stopped: well into the run. */
    static final double SERVED_BEFORE_STOP = 40;

    @Test
    void stoppingAReplicaUnderLoadFailsNoGeneration() throws Exception {
        MeshPlan plan = Repository.defaultPlan();
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        int[][] prompts = prompts(new Random(11));
        int[][] expected = Generations.local(plan.model(), prompts, TOKENS);

        List<List<RunningService>> shards = new ArrayList<>();
        try (ModelCheckpoint checkpoint = Checkpoints.open(plan.model(), null)) {
            for (int shard = 0; shard < plan.shards(); shard++) {
                Map<String, String> env = shardEnvironment(objects, plan, shard);
                List<RunningService> replicas = new ArrayList<>();
                for (int replica = 0; replica < 2; replica++) {
                    replicas.add(RunningService.start("expert-" + shard + "-" + replica, ExpertServiceApplication.class,
                            "expert-service", env, Map.of()));
                }
                shards.add(replicas);
            }
            RunningService stopped = shards.get(0).get(0);
            RunningService survivor = shards.get(0).get(1);

            AtomicInteger finished = new AtomicInteger();
            AtomicInteger finishedWhenDrained = new AtomicInteger(-1);
            stopped.context().addApplicationListener(
                    (ApplicationListener<GrpcServerShutdownEvent>) event -> finishedWhenDrained.set(finished.get()));

            ModelConfig config = checkpoint.config();
            List<EndpointGroup> groups = new ArrayList<>();
            for (int shard = 0; shard < shards.size(); shard++) {
                groups.add(EndpointGroup.open("expert-shard-" + shard,
                        new TargetSource.Static(shards.get(shard).stream().map(RunningService::target).toList()),
                        Duration.ofMinutes(1)));
            }
            RemoteExperts.Options options = RemoteExperts.Options.defaults().withWireDType(WireDType.WIRE_DTYPE_F32);
            CompletableFuture<Void> stopping;
            double survivorBefore;
            try (RemoteExperts experts = new RemoteExperts(new ShardLayout(plan.shards()), config.hiddenSize(), groups, options);
                 Scheduler scheduler = new Scheduler(ShardedTransformerLoader.withLocalAttention(config, checkpoint.store(),
                         Generations.CONTEXT, experts, plan.densePlacement()), EngineOptions.defaults(Generations.CONTEXT))) {
                List<CompletableFuture<int[]>> running = new ArrayList<>();
                for (int i = 0; i < GENERATIONS; i++) {
                    running.add(Generations.submit(scheduler, "generation-" + i, prompts[i], TOKENS)
                            .whenComplete((tokens, error) -> finished.incrementAndGet()));
                }

                awaitRequests(stopped, SERVED_BEFORE_STOP, running);
                survivorBefore = requests(survivor);
                stopping = CompletableFuture.runAsync(stopped::close);

                for (int i = 0; i < GENERATIONS; i++) {
                    assertArrayEquals(expected[i], running.get(i).get(120, TimeUnit.SECONDS), "generation " + i);
                }
            }
            stopping.get(120, TimeUnit.SECONDS);

            assertTrue(finishedWhenDrained.get() >= 0, "the stopped replica never drained");
            assertTrue(finishedWhenDrained.get() < GENERATIONS, "the replica drained after every generation had finished");
            assertTrue(requests(survivor) > survivorBefore, "the other replica of shard 0 took no requests after the stop");
        } finally {
            shards.forEach(replicas -> replicas.forEach(RunningService::close));
        }
    }

    /** Returns the environment of a shard's Deployment, with the model's path on this machine. */
    private static Map<String, String> shardEnvironment(KubeObjects objects, MeshPlan plan, int shard) {
        Deployment deployment = objects.named(Deployment.class, "base/", ExpertShardManifests.name(shard));
        Map<String, String> env = new LinkedHashMap<>(objects.environment(ShardManifestsTest.container(deployment), "base/"));
        env.replaceAll((name, value) -> value.equals(plan.containerModelPath()) ? plan.model().toString() : value);
        assertEquals(Integer.toString(shard), env.get("SPARSEMESH_EXPERT_SHARD"));
        return env;
    }

    /** Forward requests a replica has computed, from its own meters. */
    private static double requests(RunningService replica) {
        MeterRegistry registry = replica.context().getBean(MeterRegistry.class);
        return registry.find("sparsemesh.expert.request.rows").summaries().stream().mapToDouble(s -> s.count()).sum();
    }

    /** Waits until the replica has computed {@code count} requests, or a generation has ended. */
    private static void awaitRequests(RunningService replica, double count, List<CompletableFuture<int[]>> running)
            throws InterruptedException {
        while (requests(replica) < count) {
            if (running.stream().anyMatch(CompletableFuture::isDone)) {
                throw new AssertionError("a generation ended before " + replica + " served " + count + " requests");
            }
            Thread.sleep(1);
        }
    }

    /** Prompts of 3 to 20 tokens: together they fit one step. */
    private static int[][] prompts(Random random) {
        int[][] prompts = new int[GENERATIONS][];
        for (int i = 0; i < GENERATIONS; i++) {
            prompts[i] = new int[3 + random.nextInt(18)];
            prompts[i][0] = 1; // BOS
            for (int t = 1; t < prompts[i].length; t++) {
                prompts[i][t] = 3 + random.nextInt(500);
            }
        }
        return prompts;
    }
}
