package io.sparsemesh.gateway;

import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.RequestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway app on a random port in front of {@link RecordingUpstream} (a real HTTP server
 * standing in for the router), with the real Redis on 127.0.0.1:6379 and an embedded Kafka broker.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "logging.level.org.apache.kafka=WARN",
        "logging.level.kafka=WARN",
        "logging.level.state.change.logger=WARN"})
class GatewayTest {

    static final String KEY = ApiKeyTool.generateKey();
    static final String LIMITED_KEY = ApiKeyTool.generateKey();
    /** Fresh key ids each run, so token buckets left in Redis by an earlier run do not interfere. */
    static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    static final String KEY_ID = "main-" + RUN;
    static final String LIMITED_KEY_ID = "limited-" + RUN;

    static final RecordingUpstream UPSTREAM = new RecordingUpstream();
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        // Under target/, so the build's own clean removes it.
        Path spool = Files.createDirectories(Path.of("target", "test-spool-" + RUN));
        registry.add("sparsemesh.gateway.router-uri", () -> UPSTREAM.uri().toString());
        registry.add("sparsemesh.gateway.max-request-size", () -> "1KB");
        registry.add("sparsemesh.gateway.api-keys[0].id", () -> KEY_ID);
        registry.add("sparsemesh.gateway.api-keys[0].sha256", () -> ApiKeyTool.sha256Hex(KEY));
        registry.add("sparsemesh.gateway.api-keys[0].replenish-rate", () -> "1000");
        registry.add("sparsemesh.gateway.api-keys[0].burst-capacity", () -> "1000");
        // One token per 20 s: the third request within 40 s is always over the limit.
        registry.add("sparsemesh.gateway.api-keys[1].id", () -> LIMITED_KEY_ID);
        registry.add("sparsemesh.gateway.api-keys[1].sha256", () -> ApiKeyTool.sha256Hex(LIMITED_KEY));
        registry.add("sparsemesh.gateway.api-keys[1].replenish-rate", () -> "0.05");
        registry.add("sparsemesh.gateway.api-keys[1].burst-capacity", () -> "2");
        registry.add("spring.cloud.gateway.server.webflux.httpclient.response-timeout", () -> "1500ms");
        registry.add("sparsemesh.log.kafka.bootstrap-servers", () -> TestKafka.broker().bootstrapServers());
        registry.add("sparsemesh.log.spool.directory", spool::toString);
    }

    @AfterAll
    static void stopUpstream() {
        UPSTREAM.close();
    }

    @Test
    void missingKeyIsUnauthorized() throws Exception {
        int before = UPSTREAM.count();
        HttpResponse<String> response = send(post("/v1/chat/completions", "{}").build());

        assertEquals(401, response.statusCode());
        JsonNode error = error(response);
        assertEquals("invalid_api_key", error.get("code").asString());
        assertEquals("invalid_request_error", error.get("type").asString());
        assertTrue(error.get("param").isNull());
        assertTrue(error.get("message").asString().contains("Missing API key"), error.toString());
        assertEquals("Bearer", response.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals(before, UPSTREAM.count(), "nothing reaches the router");
    }

    @Test
    void wrongKeyIsUnauthorized() throws Exception {
        HttpResponse<String> response = send(post("/v1/chat/completions", "{}")
                .header("Authorization", "Bearer " + KEY + "x").build());

        assertEquals(401, response.statusCode());
        JsonNode error = error(response);
        assertEquals("invalid_api_key", error.get("code").asString());
        assertTrue(error.get("message").asString().contains("Invalid API key"), error.toString());
        assertTrue(!response.body().contains(KEY), "the key is not echoed");
    }

    @Test
    void forwardsWithNewRequestId() throws Exception {
        String body = "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> response = send(post("/v1/chat/completions?trace=1", body)
                .header("Authorization", "Bearer " + KEY).build());

        assertEquals(200, response.statusCode());
        assertEquals(RecordingUpstream.RESPONSE, response.body());
        String requestId = response.headers().firstValue("X-Request-Id").orElse(null);
        assertNotNull(requestId, "X-Request-Id returned to the client");
        UUID.fromString(requestId);

        RecordingUpstream.Received forwarded = UPSTREAM.withRequestId(requestId);
        assertNotNull(forwarded, "the router received the same X-Request-Id");
        assertEquals("POST", forwarded.method());
        assertEquals("/v1/chat/completions?trace=1", forwarded.uri());
        assertEquals(body, forwarded.body());
        assertNull(forwarded.header("Authorization"), "the API key is not forwarded");
    }

    @Test
    void passesOnClientRequestId() throws Exception {
        String requestId = "client-" + UUID.randomUUID();
        HttpResponse<String> response = send(get("/v1/models").header("Authorization", "Bearer " + KEY)
                .header("X-Request-Id", requestId).build());

        assertEquals(200, response.statusCode());
        assertEquals(requestId, response.headers().firstValue("X-Request-Id").orElse(null));
        assertEquals(1, response.headers().allValues("X-Request-Id").size());
        assertNotNull(UPSTREAM.withRequestId(requestId));
    }

    @Test
    void replacesMalformedRequestId() throws Exception {
        HttpResponse<String> response = send(get("/v1/models").header("Authorization", "Bearer " + KEY)
                .header("X-Request-Id", "has spaces and ${braces}").build());

        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        assertNotEquals("has spaces and ${braces}", requestId);
        UUID.fromString(requestId);
        assertNotNull(UPSTREAM.withRequestId(requestId));
    }

    @Test
    void unknownPathIsNotFound() throws Exception {
        for (String path : new String[] {"/", "/v2/models", "/actuator/health"}) {
            HttpResponse<String> response = send(get(path).header("Authorization", "Bearer " + KEY).build());

            assertEquals(404, response.statusCode(), path);
            JsonNode error = error(response);
            assertEquals("invalid_request_error", error.get("type").asString(), path);
            assertTrue(error.get("message").asString().contains("GET " + path), error.toString());
            assertTrue(response.headers().firstValue("X-Request-Id").isPresent(), path);
        }
    }

    @Test
    void oversizedBodyIsTooLarge() throws Exception {
        String big = "{\"prompt\":\"" + "a".repeat(2000) + "\"}";
        int before = UPSTREAM.count();
        HttpResponse<String> response = send(post("/v1/completions", big)
                .header("Authorization", "Bearer " + KEY).build());

        assertEquals(413, response.statusCode());
        JsonNode error = error(response);
        assertEquals("request_too_large", error.get("code").asString());
        assertEquals("invalid_request_error", error.get("type").asString());
        assertTrue(error.get("message").asString().contains("permissible limit is 1.0 kB"), error.toString());
        assertTrue(response.headers().firstValue("errorMessage").isEmpty(), "the message moved into the body");
        assertEquals(before, UPSTREAM.count(), "nothing reaches the router");
    }

    @Test
    void oversizedChunkedBodyIsTooLarge() throws Exception {
        byte[] big = ("{\"prompt\":\"" + "a".repeat(4000) + "\"}").getBytes();
        HttpRequest request = HttpRequest.newBuilder(uri("/v1/completions"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build();
        HttpResponse<String> response = send(request);

        assertEquals(413, response.statusCode());
        assertEquals("request_too_large", error(response).get("code").asString());
    }

    @Test
    void oversizedHeaderGets431Body() throws Exception {
        int before = UPSTREAM.count();
        HttpResponse<String> response = send(get("/v1/models").header("Authorization", "Bearer " + KEY)
                .header("X-Padding", "a".repeat(10_000)).build());

        assertEquals(431, response.statusCode());
        JsonNode error = error(response);
        assertEquals("request_header_fields_too_large", error.get("code").asString());
        assertEquals("invalid_request_error", error.get("type").asString());
        assertEquals("The request headers are larger than the limit of 8192 bytes in total; send fewer or shorter"
                + " headers.", error.get("message").asString());
        UUID.fromString(response.headers().firstValue("X-Request-Id").orElseThrow());
        assertEquals(before, UPSTREAM.count(), "nothing reaches the router");
    }

    @Test
    void overlongUrlGets414Body() throws Exception {
        HttpResponse<String> response = send(get("/v1/models?q=" + "a".repeat(5000))
                .header("Authorization", "Bearer " + KEY).build());

        assertEquals(414, response.statusCode());
        JsonNode error = error(response);
        assertEquals("uri_too_long", error.get("code").asString());
        assertTrue(error.get("message").asString().contains("limit of 4096 bytes; shorten the URL"), error.toString());
    }

    @Test
    void malformedHttpGets400Body() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertTrue(response.startsWith("HTTP/1.1 400 "), response);
            assertTrue(response.contains("content-type: application/json"), response);
            JsonNode error = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)).get("error");
            assertEquals("invalid_http_request", error.get("code").asString());
            assertEquals("invalid_request_error", error.get("type").asString());
        }
    }

    @Test
    void rateLimitAnswers429AfterBurst() throws Exception {
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> allowed = send(get("/v1/models").header("Authorization", "Bearer " + LIMITED_KEY).build());
            assertEquals(200, allowed.statusCode(), "request " + i + " is within the burst of 2");
        }
        HttpResponse<String> limited = send(get("/v1/models").header("Authorization", "Bearer " + LIMITED_KEY).build());

        assertEquals(429, limited.statusCode());
        long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1, "Retry-After is at least a second: " + retryAfter);
        assertTrue(retryAfter <= 20, "one token takes 20 s to come back: " + retryAfter);
        JsonNode error = error(limited);
        assertEquals("rate_limit_exceeded", error.get("code").asString());
        assertEquals("requests", error.get("type").asString());
        assertEquals("0", limited.headers().firstValue("X-RateLimit-Remaining").orElse(null));

        HttpResponse<String> otherKey = send(get("/v1/models").header("Authorization", "Bearer " + KEY).build());
        assertEquals(200, otherKey.statusCode(), "limits are per key");
    }

    @Test
    void slowRouterTimesOut() throws Exception {
        HttpResponse<String> response = send(get("/v1/slow").header("Authorization", "Bearer " + KEY).build());

        assertEquals(504, response.statusCode());
        JsonNode error = error(response);
        assertEquals("server_error", error.get("type").asString());
        assertEquals("timeout", error.get("code").asString());
    }

    @Test
    void streamedResponsePassesThrough() throws Exception {
        HttpResponse<String> response = send(post("/v1/stream", "{\"stream\":true}")
                .header("Authorization", "Bearer " + KEY).build());

        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(null));
        assertTrue(response.body().startsWith("data: {\"chunk\":0}\n\n"), response.body());
        assertTrue(response.body().endsWith("data: [DONE]\n\n"), response.body());
    }

    @Test
    void requestRecordReachesKafka() throws Exception {
        String requestId = "kafka-" + UUID.randomUUID();
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Once\"}";
        HttpResponse<String> response = send(post("/v1/completions", body).header("Authorization", "Bearer " + KEY)
                .header("X-Request-Id", requestId).build());
        assertEquals(200, response.statusCode());

        byte[] value = TestKafka.readValue(RequestRecord.TOPIC, requestId);
        assertNotNull(value, "a record keyed " + requestId + " in " + RequestRecord.TOPIC);
        RequestRecord record = LogRecordJson.fromJson(value, RequestRecord.class);
        assertEquals(RequestRecord.SCHEMA_VERSION, record.schemaVersion());
        assertEquals(requestId, record.requestId());
        assertEquals("POST", record.method());
        assertEquals("/v1/completions", record.path());
        assertEquals("openai", record.route());
        assertEquals(KEY_ID, record.apiKeyId());
        assertEquals(200, record.status());
        assertEquals(body.length(), record.requestBytes());
        assertEquals(RecordingUpstream.RESPONSE.length(), record.responseBytes());
        assertTrue(record.latencyMs() > 0);
        assertTrue(!new String(value).contains(KEY), "the key never appears in the log");
    }

    @Test
    void rejectedRequestIsLoggedToo() throws Exception {
        String requestId = "rejected-" + UUID.randomUUID();
        send(get("/v1/models").header("X-Request-Id", requestId).header("Authorization", "Bearer wrong").build());

        byte[] value = TestKafka.readValue(RequestRecord.TOPIC, requestId);
        assertNotNull(value);
        RequestRecord record = LogRecordJson.fromJson(value, RequestRecord.class);
        assertEquals(401, record.status());
        assertNull(record.apiKeyId());
        assertEquals("openai", record.route());
        assertTrue(record.responseBytes() > 0, "the error body is counted");
    }

    private HttpRequest.Builder post(String path, String body) {
        return HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(uri(path)).GET();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(request, (name, value) -> true).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(HttpResponse<String> response) {
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(null), response.body());
        JsonNode body = JSON.readTree(response.body());
        JsonNode error = body.get("error");
        assertNotNull(error, "OpenAI error object in " + response.body());
        for (String field : new String[] {"message", "type", "param", "code"}) {
            assertTrue(error.has(field), field + " in " + response.body());
        }
        return error;
    }
}
