package io.sparsemesh.deploy;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.attention.AttentionServiceApplication;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import io.sparsemesh.router.RouterServiceApplication;
import io.sparsemesh.transport.discovery.Channels;
import org.junit.jupiter.api.Test;
import org.springframework.context.ApplicationListener;
import org.springframework.grpc.server.lifecycle.GrpcServerShutdownEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale-down under load, end to end. The committed deployment's services run as Spring Boot
 * applications with their manifests' environment: two expert shards of two replicas each, the
 * attention service, and the router, whose targets are rewritten to the loopback addresses of
 * those replicas. 24 generations run through the router's Generation API. One expert replica is
 * then stopped the way Kubernetes stops a pod the autoscaler removed: its context closes, as on
 * SIGTERM, so the service drains and the gRPC server shuts down. Its streams end after their
 * current request, the router sends later requests to the shard's other replica, and every
 * generation ends with the single-process engine's tokens.
 */
class ExpertScaleDownTest {

    static final int GENERATIONS = 24;
    static final int TOKENS = 100;
    /** Requests the stopped replica computes before it is stopped: well into the run. */
    static final double SERVED_BEFORE_STOP = 40;

    @Test
    void stoppingAReplicaUnderLoadFailsNoGeneration() throws Exception {
        MeshPlan plan = Repository.defaultPlan();
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        int[][] prompts = prompts(new Random(11));
        int[][] expected = Generations.local(plan.model(), prompts, TOKENS);

        List<RunningService> started = new ArrayList<>();
        ManagedChannel channel = null;
        try {
            List<List<RunningService>> shards = new ArrayList<>();
            for (int shard = 0; shard < plan.shards(); shard++) {
                Map<String, String> env = manifestEnvironment(objects, plan, ExpertShardManifests.name(shard));
                assertEquals(Integer.toString(shard), env.get("SPARSEMESH_EXPERT_SHARD"));
                List<RunningService> replicas = new ArrayList<>();
                for (int replica = 0; replica < 2; replica++) {
                    replicas.add(RunningService.start("expert-" + shard + "-" + replica, ExpertServiceApplication.class,
                            "expert-service", env, Map.of()));
                }
                started.addAll(replicas);
                shards.add(replicas);
            }
            RunningService attention = RunningService.start("attention", AttentionServiceApplication.class,
                    "attention-service", manifestEnvironment(objects, plan, "attention"), Map.of());
            started.add(attention);
            RunningService router = RunningService.start("router", RouterServiceApplication.class, "router-service",
                    routerEnvironment(objects, plan, attention, shards), Map.of());
            started.add(router);

            RunningService stopped = shards.get(0).get(0);
            RunningService survivor = shards.get(0).get(1);
            AtomicInteger finished = new AtomicInteger();
            AtomicInteger finishedWhenDrained = new AtomicInteger(-1);
            stopped.context().addApplicationListener(
                    (ApplicationListener<GrpcServerShutdownEvent>) event -> finishedWhenDrained.set(finished.get()));

            channel = Channels.open(router.target(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
            List<CompletableFuture<int[]>> running = new ArrayList<>();
            for (int i = 0; i < GENERATIONS; i++) {
                running.add(generate(channel, "generation-" + i, prompts[i]).whenComplete((ids, error) -> finished.incrementAndGet()));
            }

            awaitRequests(stopped, SERVED_BEFORE_STOP, running);
            double survivorBefore = requests(survivor);
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(stopped::close);

            for (int i = 0; i < GENERATIONS; i++) {
                assertArrayEquals(expected[i], running.get(i).get(120, TimeUnit.SECONDS), "generation " + i);
            }
            stopping.get(120, TimeUnit.SECONDS);

            assertTrue(finishedWhenDrained.get() >= 0, "the stopped replica never drained");
            assertTrue(finishedWhenDrained.get() < GENERATIONS, "the replica drained after every generation had finished");
            assertTrue(requests(survivor) > survivorBefore, "the other replica of shard 0 took no requests after the stop");
        } finally {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
            started.reversed().forEach(RunningService::close);
        }
    }

    /** Returns the environment of a workload's manifest, with the model's path on this machine. */
    private static Map<String, String> manifestEnvironment(KubeObjects objects, MeshPlan plan, String workload) {
        Map<String, String> env = new LinkedHashMap<>(objects.environment(objects.container("base/", workload), "base/"));
        env.replaceAll((name, value) -> value.equals(plan.containerModelPath()) ? plan.model().toString() : value);
        return env;
    }

    /**
     * Returns the router Deployment's environment with its targets rewritten to the loopback
     * replicas, one entry per shard listing its replicas. Tensors travel as F32, so that results are
     * bitwise those of the local engine. Prompts are token ids, so the router needs no tokenizer
     * service, and the Kafka log stays off.
     */
    private static Map<String, String> routerEnvironment(KubeObjects objects, MeshPlan plan, RunningService attention,
                                                         List<List<RunningService>> shards) {
        Map<String, String> env = manifestEnvironment(objects, plan, "router");
        assertEquals(ServiceManifests.attentionTarget(0), env.put("SPARSEMESH_ROUTER_MESH_ATTENTION_0", attention.target()));
        for (int shard = 0; shard < shards.size(); shard++) {
            String replicas = shards.get(shard).stream().map(RunningService::target).collect(Collectors.joining(","));
            assertEquals(ExpertShardManifests.target(shard), env.put("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_" + shard, replicas));
        }
        env.put("SPARSEMESH_ROUTER_MESH_WIREDTYPE", "F32");
        env.remove("SPARSEMESH_ROUTER_MESH_TOKENIZER");
        env.remove("SPARSEMESH_LOG_KAFKA_BOOTSTRAPSERVERS");
        return env;
    }

    /** Starts a greedy generation of {@code TOKENS} ids through the router's Generation API. */
    private static CompletableFuture<int[]> generate(ManagedChannel channel, String id, int[] prompt) {
        CompletableFuture<int[]> result = new CompletableFuture<>();
        List<Integer> ids = new ArrayList<>();
        GenerateRequest request = GenerateRequest.newBuilder().setRequestId(id)
                .setPromptIds(TokenIds.newBuilder().addAllIds(java.util.Arrays.stream(prompt).boxed().toList()))
                .setSampling(SamplingOptions.newBuilder().setTemperature(0).setMaxTokens(TOKENS).setIgnoreEos(true))
                .build();
        GenerationGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).generate(request, new StreamObserver<>() {
            @Override
            public void onNext(GenerateResponse response) {
                if (response.hasChunk()) {
                    ids.addAll(response.getChunk().getIdsList());
                }
            }

            @Override
            public void onError(Throwable error) {
                result.completeExceptionally(error);
            }

            @Override
            public void onCompleted() {
                result.complete(ids.stream().mapToInt(Integer::intValue).toArray());
            }
        });
        return result;
    }

    /** Returns the Forward requests a replica has computed, from its own meters. */
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
