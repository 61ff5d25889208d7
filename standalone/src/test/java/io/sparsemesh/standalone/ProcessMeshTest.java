package io.sparsemesh.standalone;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.engine.TokenCollector;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

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
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mesh as separate processes on loopback (tokenizer, attention, 2 expert shards × 2 replicas,
 * router), with F32 on the wire, against the single-process engine: the same greedy tokens, also
 * when an expert replica dies mid-run, and no attention cache left after cancelled requests. The
 * bundled GLM-5-style model is checked against its PyTorch reference instead.
 */
class ProcessMeshTest {

    static final int TOKENS = 24;

    /** Both sides compute in float32 from the same BF16 weights, and F32 on the wire adds no rounding. */
    static final double REFERENCE_LOGIT_TOLERANCE = 2e-3;

    @Test
    void storiesMeshMatchesEngineSurvivesReplicaLossAndFreesCaches() throws Exception {
        Path root = repositoryRoot();
        Path model = root.resolve("models/stories260K/stories260K.gguf");
        int[][] prompts = {{1, 403, 407, 261, 378}, {1, 403}, {1, 403, 407, 261, 378, 432, 383, 286}, {1, 198}};
        int[][] expected = engineTokens(model, prompts);

        MeshTopology topology = new MeshTopology(model, true, 1, 2, 2, "F32", "SHARDS", 256);
        try (ProcessMesh mesh = new ProcessMesh(root, root.resolve("standalone/target/test-mesh-logs/stories"),
                RestartPolicy.no())) {
            ManagedChannel channel = startWithRouterChannel(mesh, topology);
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
            ManagedChannel channel = startWithRouterChannel(mesh, topology);
            try {
                for (int i = 0; i < prompts.length; i++) {
                    assertArrayEquals(expected[i], generate(channel, prompts[i]), "prompt " + i + " over the mesh");
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The GLM-5-style model trained here against the outputs of its PyTorch reference
     * (reference.json): for every prompt, the 64 greedy tokens from the router's Generation API
     * equal the reference's, with EOS ignored as the reference does. Last-position logits come from
     * a {@link MeshTransformer} in this JVM whose attention and experts run in the same services,
     * and must lie within {@value #REFERENCE_LOGIT_TOLERANCE} of the reference's, the tolerance of
     * model-core's TrainedModelReferenceTest. As there, a prompt whose indexer top-k has exact ties
     * is checked by its tokens only. Measured: max difference 1.4e-5 over the 3 prompts
     * without ties, all 4 × 64 tokens equal.
     */
    @Test
    void glm5MiniMeshMatchesPyTorchReference() throws Exception {
        Path root = repositoryRoot();
        Path model = root.resolve("models/glm5-mini-gutenberg");
        JsonNode cases = new ObjectMapper().readTree(model.resolve("reference.json").toFile()).get("cases");

        MeshTopology topology = new MeshTopology(model, true, 1, 2, 2, "F32", "SHARDS", 256);
        try (ProcessMesh mesh = new ProcessMesh(root, root.resolve("standalone/target/test-mesh-logs/glm5-mini"),
                RestartPolicy.no())) {
            ManagedChannel channel = startWithRouterChannel(mesh, topology);

            // greedy tokens through the router, every prompt at once
            try {
                List<CompletableFuture<int[]>> running = new ArrayList<>();
                for (JsonNode testCase : cases) {
                    running.add(generateAsync(channel, ints(testCase.get("prompt_ids")),
                            testCase.get("greedy_tokens").size()));
                }
                for (int i = 0; i < cases.size(); i++) {
                    assertArrayEquals(ints(cases.get(i).get("greedy_tokens")), running.get(i).get(180, TimeUnit.SECONDS),
                            "greedy tokens of prompt " + i + " over the mesh");
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            // last-position logits of each prompt through the same attention and expert services
            try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
                 MeshTransformer remote = new MeshTransformer(checkpoint, topology, mesh.services())) {
                int vocab = checkpoint.config().vocabSize();
                double maxDifference = 0;
                for (int i = 0; i < cases.size(); i++) {
                    int[] prompt = ints(cases.get(i).get("prompt_ids"));
                    long sequenceId = i + 1;
                    long[] ids = new long[prompt.length];
                    Arrays.fill(ids, sequenceId);
                    float[] logits = new float[vocab];
                    remote.transformer().step(ids, prompt, IntStream.range(0, prompt.length).toArray(), prompt.length,
                            new int[] {prompt.length - 1}, 1, logits);
                    remote.transformer().release(sequenceId);
                    if (cases.get(i).get("indexer_kth_ties").asInt() > 0) {
                        continue;
                    }

                    JsonNode expected = cases.get(i).get("last_logits");
                    for (int v = 0; v < vocab; v++) {
                        double difference = Math.abs(expected.get(v).asDouble() - logits[v]);
                        maxDifference = Math.max(maxDifference, difference);
                        assertTrue(difference <= REFERENCE_LOGIT_TOLERANCE, "prompt " + i + ", logit " + v + ": "
                                + logits[v] + " over the mesh, " + expected.get(v).asDouble() + " in the reference");
                    }
                }
                System.out.printf("glm5-mini-gutenberg over the mesh: max |logit difference| from the reference %.2e%n",
                        maxDifference);
            }
        }
    }

    /** Starts {@code topology} with the router on free ports and returns a channel to the router's gRPC port. */
    private static ManagedChannel startWithRouterChannel(ProcessMesh mesh, MeshTopology topology) throws Exception {
        int grpcPort = ProcessMesh.freePort();
        mesh.start(topology, Map.of("server.port", Integer.toString(ProcessMesh.freePort()),
                "spring.grpc.server.port", Integer.toString(grpcPort)));
        return NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
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
                GenerationRequest request = new GenerationRequest("expected-" + i, prompts[i],
                        SamplingParams.greedy(TOKENS).withIgnoreEos(true));
                tokens[i] = TokenCollector.submit(engine.scheduler(), request).get(60, TimeUnit.SECONDS);
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

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
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
