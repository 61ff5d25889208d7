package io.sparsemesh.expert;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.Channels;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spring Boot service on random ports: gRPC Experts and health, Actuator probes and Prometheus metrics. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.grpc.server.port=0",
        "sparsemesh.expert.shard=0",
        "sparsemesh.expert.shard-count=2"})
class ExpertServiceApplicationTest {

    static final int HIDDEN = 64;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("sparsemesh.expert.model", () -> TestModels.deepseekTiny().toString());
    }

    @LocalServerPort
    int httpPort;

    @Autowired
    GrpcServerLifecycle grpcServer;

    ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = Channels.open("127.0.0.1:" + grpcServer.getPort(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void forwardIsCountedInPrometheus() throws Exception {
        ExpertShardInfo info = ExpertsGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .describe(DescribeExpertsRequest.getDefaultInstance());
        assertEquals(List.of(0, 2, 4, 6), info.getExpertIdsList());

        // rows routed to experts {0, 1} and {2, 3}: this shard computes experts 0 and 2, one row each
        ExpertRequest request = ExpertRequest.newBuilder().setCallId(5).setLayer(1)
                .setHidden(TensorCodec.encode(new float[2 * HIDDEN], 2, HIDDEN, WireDType.WIRE_DTYPE_BF16))
                .setExpertsPerRow(2).addAllExpertIds(List.of(0, 1, 2, 3)).addAllWeights(List.of(0.5f, 0.5f, 0.5f, 0.5f))
                .build();
        ForwardCalls calls = ForwardCalls.open(channel);
        calls.send(request);
        calls.awaitResponses(1);
        calls.halfClose();
        assertEquals(Status.Code.OK, calls.awaitEnd().getCode());

        String metrics = get("/actuator/prometheus");
        assertEquals(2, value(metrics, "sparsemesh_expert_routed_tokens_total", "shard=\"0\""));
        assertEquals(1, value(metrics, "sparsemesh_expert_routed_tokens_by_expert_total", "expert=\"0\",shard=\"0\""));
        assertEquals(1, value(metrics, "sparsemesh_expert_routed_tokens_by_expert_total", "expert=\"2\",shard=\"0\""));
        assertEquals(0, value(metrics, "sparsemesh_expert_routed_tokens_by_expert_total", "expert=\"4\",shard=\"0\""));
        assertFalse(metrics.contains("expert=\"1\""), "a series for an expert this shard does not hold");
        assertEquals(2, value(metrics, "sparsemesh_expert_routed_tokens_by_layer_total", "layer=\"1\",shard=\"0\""));
        assertEquals(1, value(metrics, "sparsemesh_expert_request_rows_count", "kind=\"routed\",shard=\"0\""));
        assertEquals(2, value(metrics, "sparsemesh_expert_request_rows_sum", "kind=\"routed\",shard=\"0\""));
        assertEquals(1, value(metrics, "sparsemesh_expert_request_latency_seconds_count", "kind=\"routed\",shard=\"0\""));
        assertEquals(info.getMappedBytes(), value(metrics, "sparsemesh_expert_mapped_bytes", "shard=\"0\""));
        assertTrue(value(metrics, "sparsemesh_expert_resident_memory_bytes", "shard=\"0\"") > 1 << 20);
        assertEquals(0, value(metrics, "sparsemesh_expert_requests_active", "shard=\"0\""));
        assertTrue(metrics.contains("sparsemesh_expert_streams_active{shard=\"0\"}"), "the active streams gauge");
    }

    @Test
    void healthIsServedOverHttpAndGrpc() throws Exception {
        assertTrue(get("/actuator/health/readiness").contains("\"UP\""));
        assertTrue(get("/actuator/health/liveness").contains("\"UP\""));
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService("").build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    }

    private String get(String path) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), path + ": " + response.body());
            return response.body();
        }
    }

    /** Returns the value of the Prometheus sample {@code name{labels}}, failing when it is missing. */
    private static double value(String metrics, String name, String labels) {
        Matcher sample = Pattern.compile("^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$", Pattern.MULTILINE)
                .matcher(metrics);
        assertTrue(sample.find(), "no sample " + name + "{" + labels + "} in\n" + metrics.lines()
                .filter(line -> line.startsWith("sparsemesh_")).reduce("", (a, b) -> a + b + "\n"));
        return Double.parseDouble(sample.group(1));
    }
}
