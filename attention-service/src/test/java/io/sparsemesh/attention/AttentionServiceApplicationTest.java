package io.sparsemesh.attention;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.DescribeAttentionRequest;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.RemoteAttention;
import io.sparsemesh.transport.attention.RemoteAttentionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spring Boot application on random ports, serving the tiny GLM checkpoint. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.grpc.server.port=0", "sparsemesh.attention.max-sequences=8"})
class AttentionServiceApplicationTest {

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("sparsemesh.attention.model", () -> TestModels.glm().toString());
    }

    @LocalServerPort
    private int httpPort;

    @Autowired
    private GrpcServerLifecycle grpcServer;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcServer.getPort()).usePlaintext().build();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void healthIsUp() throws Exception {
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness")) {
            HttpResponse<String> response = get(path);
            assertEquals(200, response.statusCode(), path);
            assertTrue(response.body().contains("\"status\":\"UP\""), path + ": " + response.body());
        }
        HealthCheckResponse grpcHealth = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, grpcHealth.getStatus());
    }

    @Test
    void describeReportsTheConfiguredService() {
        AttentionInfo info = AttentionGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .describe(DescribeAttentionRequest.getDefaultInstance());
        assertEquals("glm_moe_dsa_tiny_b", info.getModel());
        assertEquals(0, info.getFirstLayer());
        assertEquals(3, info.getEndLayer());
        assertEquals(96, info.getHiddenSize());
        assertEquals(8, info.getMaxSequences());
        assertEquals(262144, info.getMaxCachedTokens());
    }

    @Test
    void prometheusShowsTheAttentionMetrics() throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.glm(), null)) {
            RemoteAttention attention = RemoteAttention.connect(checkpoint.config(),
                    List.of(new AttentionReplica("spring", channel)),
                    RemoteAttentionOptions.defaults().withWireDType(WireDType.WIRE_DTYPE_BF16));
            try (Transformer model = RouterTransformers.load(checkpoint.config(), checkpoint.store(), attention)) {
                AttentionLimitsTest.StepRunner runner = new AttentionLimitsTest.StepRunner(model);
                runner.prefill(new long[] {1, 2}, new int[][] {{0, 17, 42, 99}, {0, 5}});
                for (int step = 0; step < 3; step++) {
                    runner.decode(new long[] {1, 2}, runner.argmaxTokens());
                }
                String during = get("/actuator/prometheus").body();
                assertEquals(2, value(during, "sparsemesh_attention_cached_sequences"));
                assertEquals(12, value(during, "sparsemesh_attention_cached_tokens"));
                assertTrue(value(during, "sparsemesh_attention_cache_bytes") > 0);

                model.release(1);
                assertTrue(attention.flushReleases(Duration.ofSeconds(30)));
            }
        }

        String metrics = get("/actuator/prometheus").body();
        // 4 steps × 3 layers, each layer one request
        assertEquals(12, value(metrics, "sparsemesh_attention_requests_total{outcome=\"ok\"}"));
        assertEquals(4, value(metrics, "sparsemesh_attention_layer_seconds_count{layer=\"0\"}"));
        assertEquals(4, value(metrics, "sparsemesh_attention_layer_seconds_count{layer=\"2\"}"));
        // every row of every step runs the indexer of each of the 3 FULL layers: (6 + 2 + 2 + 2) rows × 3
        assertEquals(36, value(metrics, "sparsemesh_attention_indexer_runs_total"));
        assertEquals(0, value(metrics, "sparsemesh_attention_indexer_reuses_total"));
        assertEquals(1, value(metrics, "sparsemesh_attention_sequences_freed_total{reason=\"released\"}"));
        assertEquals(8, value(metrics, "sparsemesh_attention_max_sequences"));
        assertTrue(metrics.contains("sparsemesh_attention_max_cached_tokens"), "no max_cached_tokens gauge");
    }

    private HttpResponse<String> get(String path) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(30))
                    .build();
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Returns the value of the sample whose name and labels start with {@code sample}, e.g. {@code name{label="x"}}. */
    private static double value(String metrics, String sample) {
        String prefix = sample.endsWith("}") ? sample.substring(0, sample.length() - 1) : sample;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix) && (line.charAt(prefix.length()) == ' ' || line.charAt(prefix.length()) == '{'
                    || line.charAt(prefix.length()) == ',' || line.charAt(prefix.length()) == '}')) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no sample " + sample + " in /actuator/prometheus:\n" + metrics);
    }
}
