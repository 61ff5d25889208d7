package io.sparsemesh.tokenizer;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sparsemesh.transport.tokenizer.RemoteTokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spring Boot application on random ports: gRPC tokenizer and health services, Actuator health and Prometheus. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "spring.grpc.server.port=0")
class TokenizerServiceApplicationTest {

    private static final AtomicInteger GRPC_PORT = new AtomicInteger();

    @TestConfiguration
    static class GrpcPortRecorder {
        @Bean
        ApplicationListener<GrpcServerStartedEvent> grpcPortRecorder() {
            return event -> GRPC_PORT.set(event.getPort());
        }
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("sparsemesh.tokenizer.model-path", () -> TestData.storiesGguf().toString());
    }

    @LocalServerPort
    private int httpPort;

    private ManagedChannel channel;

    private ManagedChannel channel() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", GRPC_PORT.get()).usePlaintext().build();
        return channel;
    }

    @AfterEach
    void closeChannel() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(10)).build();
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void servesTokenizerOverGrpc() {
        RemoteTokenizer remote = new RemoteTokenizer(channel(), Duration.ofSeconds(10), Duration.ofSeconds(30));
        assertEquals(512, remote.describe().vocabSize());
        assertEquals("Once upon a time", remote.decode(remote.encode("Once upon a time", true)));
    }

    @Test
    void grpcHealthServiceAnswers() {
        HealthCheckResponse response = HealthGrpc.newBlockingStub(channel())
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, response.getStatus());
    }

    @Test
    void actuatorHealthIsUp() throws IOException, InterruptedException {
        HttpResponse<String> health = get("/actuator/health");
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"UP\""), health.body());
        assertEquals(200, get("/actuator/health/liveness").statusCode());
        assertEquals(200, get("/actuator/health/readiness").statusCode());
    }

    @Test
    void prometheusExportsTokenizerMetrics() throws IOException, InterruptedException {
        RemoteTokenizer remote = new RemoteTokenizer(channel(), Duration.ofSeconds(10), Duration.ofSeconds(30));
        remote.encode("Once upon a time", true);
        HttpResponse<String> metrics = get("/actuator/prometheus");
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("sparsemesh_tokenizer_requests_total{method=\"Encode\",status=\"OK\"}"),
                metrics.body());
        assertTrue(metrics.body().contains("sparsemesh_tokenizer_tokens_total{operation=\"encode\"}"), metrics.body());
        assertTrue(metrics.body().contains("sparsemesh_tokenizer_request_duration_seconds_count{method=\"Encode\"}"),
                metrics.body());
    }
}
