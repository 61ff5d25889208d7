package io.sparsemesh.router;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.sparsemesh.attention.AttentionServiceApplication;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import io.sparsemesh.router.health.BackendProbe;
import io.sparsemesh.router.health.BackendReport;
import io.sparsemesh.router.health.ServiceUnitsHealthIndicator;
import io.sparsemesh.tokenizer.TokenizerServiceApplication;
import io.sparsemesh.transport.discovery.Channels;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router's readiness and liveness groups against real services on loopback: the tokenizer,
 * one attention replica and two expert shards of one replica each, each a Spring Boot application
 * with its gRPC server on a fixed free port. A test stops one service, checks that readiness goes
 * DOWN naming it while liveness stays UP, starts the service again on the same port, and checks
 * that readiness returns to UP and a generation succeeds.
 */
class RouterBackendHealthTest {

    /** Upper bound for a health change to show; health is checked again on every request (time to live 0). */
    static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(60);

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final JsonMapper JSON = JsonMapper.builder().build();

    static Path model;
    static Backend tokenizer;
    static Backend attention;
    static Backend expert0;
    static Backend expert1;
    static ConfigurableApplicationContext router;
    static ManagedChannel routerChannel;

    @BeforeAll
    static void startMesh() {
        model = RouterGenerationGrpcTest.repositoryRoot().resolve("models/stories260K/stories260K.gguf");
        tokenizer = new Backend("tokenizer", TokenizerServiceApplication.class, "tokenizer-service",
                Map.of("sparsemesh.tokenizer.model-path", model.toString()));
        attention = new Backend("attention", AttentionServiceApplication.class, "attention-service",
                Map.of("sparsemesh.attention.model", model.toString(), "sparsemesh.attention.context-length", "128"));
        expert0 = new Backend("expert-0", ExpertServiceApplication.class, "expert-service", expertProperties(0));
        expert1 = new Backend("expert-1", ExpertServiceApplication.class, "expert-service", expertProperties(1));
        for (Backend backend : List.of(tokenizer, attention, expert0, expert1)) {
            backend.start();
        }

        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("spring.config.name", "sparsemesh-router-service");
        properties.put("spring.application.name", "router");
        properties.put("server.port", "0");
        properties.put("spring.grpc.server.port", "0");
        properties.put("sparsemesh.router.model", model.toString());
        properties.put("sparsemesh.router.scheduler.context-length", "128");
        properties.put("sparsemesh.router.mesh.tokenizer", tokenizer.target());
        properties.put("sparsemesh.router.mesh.attention[0]", attention.target());
        properties.put("sparsemesh.router.mesh.expert-shards[0]", expert0.target());
        properties.put("sparsemesh.router.mesh.expert-shards[1]", expert1.target());
        properties.put("sparsemesh.router.mesh.dense-placement", "SHARDS");
        properties.put("sparsemesh.router.health-check.time-to-live", "0s");
        // as in the router's Kubernetes Deployment, whose startup probe is this gRPC health check
        properties.put("spring.grpc.server.health.enabled", "true");
        router = new SpringApplicationBuilder(RouterServiceApplication.class).run(arguments(properties));
        routerChannel = Channels.open("127.0.0.1:" + router.getBean(GrpcServerLifecycle.class).getPort(),
                Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
    }

    @AfterAll
    static void stopMesh() throws InterruptedException {
        if (routerChannel != null) {
            routerChannel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (router != null) {
            router.close();
        }
        for (Backend backend : new Backend[] {expert1, expert0, attention, tokenizer}) {
            if (backend != null) {
                backend.stop();
            }
        }
    }

    @Test
    void readinessIsUpWithEveryBackend() throws Exception {
        JsonNode readiness = awaitReadiness(200);
        assertEquals("UP", readiness.path("status").asString());
        JsonNode components = readiness.path("components");
        assertEquals("UP", components.path("readinessState").path("status").asString());
        assertEquals("UP", components.path("tokenizer").path("status").asString());
        assertEquals("UP", components.path("attention").path("details").path("attention layers [0, 5)").path("status")
                .asString());
        JsonNode shards = components.path("expertShards").path("details");
        assertEquals("UP", shards.path("expert-shard-0").path("replicas").path(expert0.target()).asString());
        assertEquals("UP", shards.path("expert-shard-1").path("replicas").path(expert1.target()).asString());
    }

    @Test
    void livenessExcludesBackends() throws Exception {
        JsonNode liveness = health("/actuator/health/liveness", 200);
        assertEquals("UP", liveness.path("status").asString());
        assertTrue(liveness.path("components").path("expertShards").isMissingNode(), liveness.toString());
    }

    @Test
    void expertShardDownAndBack() throws Exception {
        assertDownAndBack(expert0, "expertShards", "expert-shard-0");
    }

    @Test
    void tokenizerDownAndBack() throws Exception {
        assertDownAndBack(tokenizer, "tokenizer", "tokenizer");
    }

    @Test
    void attentionDownAndBack() throws Exception {
        assertDownAndBack(attention, "attention", "attention layers [0, 5)");
    }

    @Test
    void reportIsReusedWithinTimeToLive() {
        try (EndpointGroup shard0 = group("expert-shard-0", expert0); EndpointGroup shard1 = group("expert-shard-1", expert1)) {
            BackendProbe probe = new BackendProbe(null, null, Map.of(), List.of(shard0, shard1), Duration.ofSeconds(5),
                    Duration.ofHours(1));
            BackendReport first = probe.report();
            assertTrue(first.expertShards().stream().allMatch(BackendReport.Unit::available), first.toString());
            assertSame(first, probe.report(), "a second request within the time to live checks again");
        }
    }

    @Test
    void replicaOfAnotherShardIsUnreachable() {
        // shard 1's replica listed as the only replica of shard 0, and shard 0's as shard 1's
        try (EndpointGroup swapped0 = group("expert-shard-0", expert1); EndpointGroup swapped1 = group("expert-shard-1", expert0)) {
            BackendProbe probe = new BackendProbe(null, null, Map.of(), List.of(swapped0, swapped1), Duration.ofSeconds(5),
                    Duration.ZERO);
            BackendReport.Unit shard0 = probe.report().expertShards().getFirst();
            assertEquals("expert-shard-0", shard0.name());
            assertTrue(!shard0.available(), "shard 0 served by shard 1's replica counts as available");
            String error = shard0.replicas().getFirst().error();
            assertNotNull(error);
            assertTrue(error.contains("serves expert shard 1 of 2"), error);
        }
    }

    @Test
    void localBackendsAreUp() {
        BackendProbe probe = new BackendProbe(null, null, Map.of(), List.of(), Duration.ofSeconds(1), Duration.ZERO);
        var health = new ServiceUnitsHealthIndicator(probe, BackendReport::expertShards).health();
        assertEquals("UP", health.getStatus().getCode());
        assertEquals("router process", health.getDetails().get("location"));
        assertNull(health.getDetails().get("checkedAt"));
    }

    private static EndpointGroup group(String name, Backend replica) {
        return EndpointGroup.open(name, TargetSource.parse(replica.target(), Duration.ofSeconds(10)), Duration.ofSeconds(2));
    }

    /**
     * Stops {@code backend}, waits until readiness is DOWN, and checks that the {@code indicator}'s
     * {@code unit} is the DOWN part and that liveness stays UP. Then starts the backend again on its
     * port, waits until readiness is UP, and runs a generation through the router.
     */
    private static void assertDownAndBack(Backend backend, String indicator, String unit) throws Exception {
        awaitReadiness(200);
        backend.stop();
        try {
            JsonNode down = awaitReadiness(503);
            assertEquals("DOWN", down.path("status").asString());
            JsonNode component = down.path("components").path(indicator);
            assertEquals("DOWN", component.path("status").asString(), down.toString());
            JsonNode details = component.path("details").path(unit);
            assertEquals("DOWN", details.path("status").asString(), down.toString());
            String error = details.path("replicas").path(backend.target()).asString();
            assertTrue(error.startsWith("UNAVAILABLE"), "reason for " + backend.target() + ": " + error);
            assertEquals("UP", down.path("components").path("readinessState").path("status").asString());

            JsonNode liveness = health("/actuator/health/liveness", 200);
            assertEquals("UP", liveness.path("status").asString(), "liveness while " + backend.name + " is down");
            assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(routerChannel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus(),
                    "gRPC health (the startup probe) while " + backend.name + " is down");
        } finally {
            backend.start();
        }
        JsonNode up = awaitReadiness(200);
        assertEquals("UP", up.path("components").path(indicator).path("status").asString(), up.toString());
        assertEquals(8, generate(new int[] {1, 403, 407, 261, 378}, 8), "tokens generated after " + backend.name
                + " came back");
    }

    /** Polls readiness until it returns HTTP status {@code httpStatus}, and returns its body. */
    private static JsonNode awaitReadiness(int httpStatus) throws Exception {
        long deadline = System.nanoTime() + CHANGE_TIMEOUT.toNanos();
        HttpResponse<String> response;
        do {
            response = get("/actuator/health/readiness");
            if (response.statusCode() == httpStatus) {
                return JSON.readTree(response.body());
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("readiness did not return " + httpStatus + " within " + CHANGE_TIMEOUT.toSeconds()
                + " s; last response " + response.statusCode() + ": " + response.body());
    }

    private static JsonNode health(String path, int expectedStatus) throws Exception {
        HttpResponse<String> response = get(path);
        assertEquals(expectedStatus, response.statusCode(), path + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        int port = Integer.parseInt(router.getEnvironment().getProperty("local.server.port"));
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Runs a greedy generation through the router's Generation API and returns the number of tokens. */
    private static int generate(int[] prompt, int maxTokens) {
        GenerateRequest request = GenerateRequest.newBuilder()
                .setPromptIds(TokenIds.newBuilder().addAllIds(java.util.Arrays.stream(prompt).boxed().toList()))
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(maxTokens).setIgnoreEos(true))
                .build();
        List<GenerateResponse> responses = new ArrayList<>();
        GenerationGrpc.newBlockingStub(routerChannel).withDeadlineAfter(60, TimeUnit.SECONDS).generate(request)
                .forEachRemaining(responses::add);
        return responses.stream().filter(GenerateResponse::hasChunk).mapToInt(r -> r.getChunk().getIdsCount()).sum();
    }

    private static Map<String, String> expertProperties(int shard) {
        return Map.of("sparsemesh.expert.model", model.toString(), "sparsemesh.expert.shard", Integer.toString(shard),
                "sparsemesh.expert.shard-count", "2", "sparsemesh.expert.dense-placement", "shards");
    }

    private static String[] arguments(Map<String, String> properties) {
        return properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    }

    /** A backend service in this JVM, without its HTTP server, whose gRPC server keeps its port across restarts. */
    static final class Backend {

        final String name;
        final Class<?> application;
        final Map<String, String> properties = new LinkedHashMap<>();
        final int grpcPort = RouterGenerationGrpcTest.freePort();
        ConfigurableApplicationContext context;

        Backend(String name, Class<?> application, String module, Map<String, String> properties) {
            this.name = name;
            this.application = application;
            this.properties.put("spring.config.name", "sparsemesh-" + module);
            this.properties.put("spring.application.name", name);
            this.properties.put("spring.grpc.server.host", "127.0.0.1");
            this.properties.put("spring.grpc.server.port", Integer.toString(grpcPort));
            this.properties.putAll(properties);
        }

        String target() {
            return "127.0.0.1:" + grpcPort;
        }

        void start() {
            context = new SpringApplicationBuilder(application).web(WebApplicationType.NONE).run(arguments(properties));
        }

        void stop() {
            if (context != null) {
                context.close();
                context = null;
            }
        }
    }
}
