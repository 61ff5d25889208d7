package io.sparsemesh.standalone;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationListener;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mesh as separate processes on loopback (tokenizer, attention, 2 expert shards × 2 replicas,
 * router), with F32 on the wire, against the single-process engine: the same greedy tokens, also
 * when an expert replica dies mid-run, and no attention cache left after cancelled requests.
 */
class ProcessMeshTest {

    static final int TOKENS = 24;

    @Test
    void storiesMeshMatchesEngineSurvivesReplicaLossAndFreesCaches() throws Exception {
        Path root = repositoryRoot();
        Path model = root.resolve("models/stories260K/stories260K.gguf");
        int[][] prompts = {{1, 403, 407, 261, 378}, {1, 403}, {1, 403, 407, 261, 378, 432, 383, 286}, {1, 198}};
        int[][] expected = engineTokens(model, prompts);

        MeshTopology topology = new MeshTopology(model, true, 1, 2, 2, "F32", "SHARDS", 256);
        try (ProcessMesh mesh = new ProcessMesh(root, root.resolve("standalone/target/test-mesh-logs/stories"),
                RestartPolicy.no())) {
            int grpcPort = ProcessMesh.freePort();
            mesh.start(topology, Map.of("server.port", Integer.toString(ProcessMesh.freePort()),
                    "spring.grpc.server.port", Integer.toString(grpcPort)));
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
            try {
                // same greedy tokens as the engine, each prompt alone
                for (int i = 0; i < prompts.length; i++) {
                    assertArrayEquals(expected[i], generate(channel, prompts[i]), "prompt " + i + " over the mesh");
                }

                // 16 generations at once; one replica of shard 0 dies while they run
                List<CompletableFuture<int[]>> running = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    running.add(generateAsync(channel, prompts[i % prompts.length], TOKENS));
                }
                Thread.sleep(300);
                ServiceProcess victim = mesh.processes().stream()
                        .filter(process -> process.name().equals("expert-0-1")).findFirst().orElseThrow();
                victim.kill();
                for (int i = 0; i < 16; i++) {
                    assertArrayEquals(expected[i % prompts.length], running.get(i).get(120, TimeUnit.SECONDS),
                            "generation " + i + " after a replica died");
                }
                assertFalse(victim.isAlive(), "expert-0-1 was restarted although restarts are off");

                // cancelled generations leave no cache behind in the attention service
                ServiceProcess attention = mesh.processes().stream()
                        .filter(process -> process.name().equals("attention-0")).findFirst().orElseThrow();
                cancelAfterFirstToken(channel, prompts[0], 4);
                assertEquals(0, awaitCachedSequences(attention.managementPort(), 0), "attention caches left");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void glmMeshWithIndexSharingMatchesEngine(@TempDir Path work) throws Exception {
        Path root = repositoryRoot();
        Path model = sharedIndexCopy(root.resolve("testdata/hf-tiny/glm_moe_dsa_tiny_b"), work.resolve("glm-shared"));
        int[][] prompts = {{56, 50, 16, 57, 116}, {3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26}};
        int[][] expected = engineTokens(model, prompts);

        MeshTopology topology = new MeshTopology(model, false, 1, 2, 2, "F32", "ROUTER", 128);
        try (ProcessMesh mesh = new ProcessMesh(root, root.resolve("standalone/target/test-mesh-logs/glm"),
                RestartPolicy.no())) {
            int grpcPort = ProcessMesh.freePort();
            mesh.start(topology, Map.of("server.port", Integer.toString(ProcessMesh.freePort()),
                    "spring.grpc.server.port", Integer.toString(grpcPort)));
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
            try {
                for (int i = 0; i < prompts.length; i++) {
                    assertArrayEquals(expected[i], generate(channel, prompts[i]), "prompt " + i + " over the mesh");
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Copies the checkpoint's config with layer 1 sharing layer 0's indexer selection; the weights are linked. */
    private static Path sharedIndexCopy(Path source, Path target) throws Exception {
        Files.createDirectories(target);
        for (String name : List.of("model.safetensors", "generation_config.json")) {
            Files.createSymbolicLink(target.resolve(name), source.resolve(name).toAbsolutePath());
        }
        String config = Files.readString(source.resolve("config.json"));
        String shared = config.replaceFirst("\"indexer_types\": \\[[^]]*]", "\"indexer_types\": [\"full\", \"shared\", \"full\"]");
        assertTrue(!shared.equals(config), "indexer_types not found in config.json");
        Files.writeString(target.resolve("config.json"), shared);
        return target;
    }

    private static int[][] engineTokens(Path model, int[][] prompts) throws Exception {
        int[][] tokens = new int[prompts.length][];
        try (LocalEngine engine = LocalEngine.open(model, null, 256)) {
            for (int i = 0; i < prompts.length; i++) {
                CompletableFuture<int[]> done = new CompletableFuture<>();
                List<Integer> out = new ArrayList<>();
                engine.scheduler().submit(new GenerationRequest("expected-" + i, prompts[i],
                        SamplingParams.greedy(TOKENS).withIgnoreEos(true)), new GenerationListener() {
                    @Override
                    public boolean onToken(int token) {
                        out.add(token);
                        return true;
                    }

                    @Override
                    public void onFinish(FinishReason reason, GenerationStats stats) {
                        done.complete(out.stream().mapToInt(Integer::intValue).toArray());
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
                tokens[i] = done.get(60, TimeUnit.SECONDS);
            }
        }
        return tokens;
    }

    static int[] generate(ManagedChannel channel, int[] prompt) throws Exception {
        return generateAsync(channel, prompt, TOKENS).get(120, TimeUnit.SECONDS);
    }

    private static CompletableFuture<int[]> generateAsync(ManagedChannel channel, int[] prompt, int maxTokens) {
        CompletableFuture<int[]> done = new CompletableFuture<>();
        List<Integer> ids = new ArrayList<>();
        GenerationGrpc.newStub(channel).withDeadlineAfter(180, TimeUnit.SECONDS).generate(request(prompt, maxTokens),
                new StreamObserver<>() {
                    @Override
                    public void onNext(GenerateResponse response) {
                        if (response.hasChunk()) {
                            ids.addAll(response.getChunk().getIdsList());
                        }
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(ids.stream().mapToInt(Integer::intValue).toArray());
                    }
                });
        return done;
    }

    private static void cancelAfterFirstToken(ManagedChannel channel, int[] prompt, int count) throws Exception {
        CountDownLatch started = new CountDownLatch(count);
        List<io.grpc.Context.CancellableContext> contexts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
            contexts.add(context);
            context.run(() -> GenerationGrpc.newStub(channel).generate(request(prompt, 200), new StreamObserver<>() {
                private boolean counted;

                @Override
                public void onNext(GenerateResponse response) {
                    if (response.hasChunk() && !counted) {
                        counted = true;
                        started.countDown();
                    }
                }

                @Override
                public void onError(Throwable error) {
                }

                @Override
                public void onCompleted() {
                }
            }));
        }
        assertTrue(started.await(60, TimeUnit.SECONDS), "the generations did not start");
        contexts.forEach(context -> context.cancel(null));
    }

    private static GenerateRequest request(int[] prompt, int maxTokens) {
        return GenerateRequest.newBuilder()
                .setPromptIds(TokenIds.newBuilder().addAllIds(Arrays.stream(prompt).boxed().toList()))
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(maxTokens).setIgnoreEos(true))
                .build();
    }

    /** Polls the attention service's cached-sequences gauge until it reaches {@code expected} or 30 s pass. */
    private static int awaitCachedSequences(int managementPort, int expected) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Pattern gauge = Pattern.compile("^sparsemesh_attention_cached_sequences(?:\\{[^}]*})? ([0-9.eE+-]+)$",
                Pattern.MULTILINE);
        int value = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                    + "/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher matcher = gauge.matcher(body);
            assertTrue(matcher.find(), "no sparsemesh_attention_cached_sequences gauge");
            value = (int) Double.parseDouble(matcher.group(1));
            if (value == expected) {
                return value;
            }
            Thread.sleep(200);
        }
        return value;
    }

    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
