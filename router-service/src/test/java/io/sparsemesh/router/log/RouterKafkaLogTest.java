package io.sparsemesh.router.log;

import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.LogRecordJson;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router app serving stories260K with content logging on and an embedded Kafka broker: each
 * generation requested over the OpenAI HTTP API leaves a {@code sparsemesh.generations} record
 * keyed by the request's {@code X-Request-Id}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "sparsemesh.router.log.content-enabled=true",
        "logging.level.org.apache.kafka=WARN",
        "logging.level.kafka=WARN",
        "logging.level.state.change.logger=WARN"})
class RouterKafkaLogTest {

    static final JsonMapper JSON = JsonMapper.builder().build();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        // Under target/, so the build's own clean removes it.
        Path spool = Files.createDirectories(Path.of("target", "test-spool-" + UUID.randomUUID()));
        registry.add("spring.grpc.server.port", RouterKafkaLogTest::freePort);
        registry.add("sparsemesh.router.model",
                () -> TestKafka.repositoryRoot().resolve("models/stories260K/stories260K.gguf").toString());
        registry.add("sparsemesh.log.kafka.bootstrap-servers", () -> TestKafka.broker().bootstrapServers());
        registry.add("sparsemesh.log.spool.directory", spool::toString);
    }

    @Test
    void completionLeavesGenerationRecord() throws Exception {
        String requestId = "completion-" + UUID.randomUUID();
        JsonNode response = post("/v1/completions", requestId,
                "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}");

        GenerationRecord record = read(requestId);
        assertEquals(GenerationRecord.SCHEMA_VERSION, record.schemaVersion());
        assertEquals("stories260K", record.model());
        assertEquals(response.get("usage").get("prompt_tokens").asInt(), record.promptTokens());
        assertEquals(response.get("usage").get("completion_tokens").asInt(), record.completionTokens());
        assertEquals(response.get("choices").get(0).get("finish_reason").asString(), record.finishReason());
        assertEquals("Once upon a time", record.prompt());
        assertEquals(response.get("choices").get(0).get("text").asString(), record.completion());
        assertNull(record.messages());
        assertNull(record.error());
        assertTrue(record.timeToFirstTokenMs() > 0, "time to first token");
        assertTrue(record.timePerOutputTokenMs() > 0, "time per output token");
    }

    @Test
    void chatLeavesMessagesInRecord() throws Exception {
        String requestId = "chat-" + UUID.randomUUID();
        JsonNode response = post("/v1/chat/completions", requestId, "{\"model\":\"stories260K\",\"max_tokens\":6,"
                + "\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"Tell a story\"}]}");

        GenerationRecord record = read(requestId);
        assertEquals(List.of(new GenerationRecord.Message("user", "Tell a story")), record.messages());
        assertNull(record.prompt());
        assertEquals(response.get("choices").get(0).get("message").get("content").asString(), record.completion());
        assertEquals(response.get("usage").get("completion_tokens").asInt(), record.completionTokens());
    }

    private JsonNode post(String path, String requestId, String body) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("Content-Type", "application/json")
                        .header("X-Request-Id", requestId)
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static GenerationRecord read(String requestId) {
        byte[] value = TestKafka.readValue(GenerationRecord.TOPIC, requestId);
        assertNotNull(value, "a record keyed " + requestId + " in " + GenerationRecord.TOPIC);
        return LogRecordJson.fromJson(value, GenerationRecord.class);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }
}
