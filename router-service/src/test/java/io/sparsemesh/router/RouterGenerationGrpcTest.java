package io.sparsemesh.router;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.ListModelsRequest;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router's Generation gRPC API, served by the real Spring Boot app over loopback. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RouterGenerationGrpcTest {

    static final int GRPC_PORT = freePort();
    static ManagedChannel channel;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.grpc.server.port", () -> GRPC_PORT);
        registry.add("sparsemesh.router.model", () -> repositoryRoot().resolve("models/stories260K/stories260K.gguf").toString());
    }

    @BeforeAll
    static void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", GRPC_PORT).usePlaintext().build();
    }

    @AfterAll
    static void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void greedyPromptStreamsReferenceText() {
        Iterator<GenerateResponse> responses = stub().generate(GenerateRequest.newBuilder()
                .setRequestId("test-1")
                .setModel("stories260K")
                .setPrompt("Once upon a time")
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(16).setIgnoreEos(true))
                .build());

        List<GenerateResponse> all = new ArrayList<>();
        responses.forEachRemaining(all::add);
        assertEquals(5, all.getFirst().getStarted().getPromptTokens());
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        for (GenerateResponse response : all) {
            if (response.hasChunk()) {
                text.append(response.getChunk().getText());
                ids.addAll(response.getChunk().getIdsList());
            }
        }
        assertEquals(", there was a little girl named Lily. She loved to play", text.toString());
        assertEquals(List.of(432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337), ids);
        GenerateResponse last = all.getLast();
        assertEquals("length", last.getFinished().getFinishReason());
        assertEquals(16, last.getFinished().getCompletionTokens());
    }

    @Test
    void stopStringEndsWithStopReason() {
        List<GenerateResponse> all = new ArrayList<>();
        stub().generate(GenerateRequest.newBuilder()
                .setPromptIds(TokenIds.newBuilder().addAllIds(List.of(1, 403, 407, 261, 378)))
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(40).addStop(" named")).build())
                .forEachRemaining(all::add);
        StringBuilder text = new StringBuilder();
        all.stream().filter(GenerateResponse::hasChunk).forEach(r -> text.append(r.getChunk().getText()));
        assertEquals(", there was a little girl", text.toString());
        assertEquals("stop", all.getLast().getFinished().getFinishReason());
    }

    @Test
    void unknownModelIsNotFound() {
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> stub().generate(
                GenerateRequest.newBuilder().setModel("gpt-4").setPrompt("hi").build()).hasNext());
        assertEquals(io.grpc.Status.Code.NOT_FOUND, error.getStatus().getCode());
        assertTrue(error.getStatus().getDescription().contains("'gpt-4' does not exist"));
    }

    @Test
    void promptLongerThanContextIsOutOfRange() {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ids.add(1);
        }
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> stub().generate(
                GenerateRequest.newBuilder().setPromptIds(TokenIds.newBuilder().addAllIds(ids)).build()).hasNext());
        assertEquals(io.grpc.Status.Code.OUT_OF_RANGE, error.getStatus().getCode());
        assertTrue(error.getStatus().getDescription().contains("200 tokens"), error.getStatus().getDescription());
    }

    @Test
    void negativeMaxTokensIsInvalid() {
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> stub().generate(
                GenerateRequest.newBuilder().setPrompt("Once")
                        .setSampling(SamplingOptions.newBuilder().setMaxTokens(-3)).build()).hasNext());
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
        assertTrue(error.getStatus().getDescription().contains("max_tokens"), error.getStatus().getDescription());
    }

    @Test
    void listModelsNamesTheCheckpoint() {
        var models = stub().listModels(ListModelsRequest.getDefaultInstance());
        assertEquals("stories260K", models.getModels(0).getId());
        assertEquals("LlamaForCausalLM", models.getModels(0).getArchitecture());
    }

    @Test
    void prometheusShowsSchedulerMetrics() throws Exception {
        stub().generate(GenerateRequest.newBuilder().setPrompt("Once").setSampling(
                SamplingOptions.newBuilder().setMaxTokens(4)).build()).forEachRemaining(r -> { });
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/actuator/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("sparsemesh_router_step_rows"), "step rows metric");
        assertTrue(response.body().contains("sparsemesh_router_queue_depth"), "queue depth metric");
        assertTrue(response.body().contains("sparsemesh_router_hop_duration_seconds_count{component=\"attention\",layer=\"4\"}"),
                "per-layer attention hop timer");
    }

    private static GenerationGrpc.GenerationBlockingStub stub() {
        return GenerationGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no models/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }
}
