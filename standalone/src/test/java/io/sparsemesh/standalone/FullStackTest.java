package io.sparsemesh.standalone;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole standalone stack as {@code ./sparsemesh serve} starts it (embedded mesh, router,
 * gateway, a real KRaft broker) used by the official OpenAI Java SDK through the gateway, with the
 * request and generation records read back from Kafka.
 */
class FullStackTest {

    static final String KEY = "sk-full-stack-test";
    static final String REFERENCE = ", there was a little girl named Lily. She loved to play";

    static EmbeddedKafkaBroker broker;
    static EmbeddedMesh mesh;
    static int gatewayPort;

    @BeforeAll
    static void start() {
        broker = EmbeddedKafkaBroker.startTemporary();
        Path root = ProcessMeshTest.repositoryRoot();
        MeshTopology topology = new MeshTopology(root.resolve("models/stories260K/stories260K.gguf"), true, 1, 2, 1,
                "BF16", "SHARDS", 128);
        int routerPort = ProcessMesh.freePort();
        gatewayPort = ProcessMesh.freePort();
        Map<String, String> log = Map.of("sparsemesh.log.kafka.bootstrap-servers", broker.bootstrapServers());

        Map<String, String> router = new HashMap<>(log);
        router.put("server.port", Integer.toString(routerPort));
        router.put("spring.grpc.server.port", Integer.toString(ProcessMesh.freePort()));
        router.put("sparsemesh.log.spool.directory", root.resolve("standalone/target/full-stack-spool/router").toString());

        Map<String, String> gateway = new HashMap<>(log);
        gateway.put("server.port", Integer.toString(gatewayPort));
        gateway.put("management.server.port", Integer.toString(ProcessMesh.freePort()));
        gateway.put("sparsemesh.gateway.router-uri", "http://127.0.0.1:" + routerPort);
        gateway.put("sparsemesh.gateway.api-keys[0].id", "tests");
        gateway.put("sparsemesh.gateway.api-keys[0].sha256", new ApiKey(KEY, false).sha256());
        gateway.put("sparsemesh.gateway.api-keys[0].replenish-rate", "100");
        gateway.put("sparsemesh.gateway.api-keys[0].burst-capacity", "200");
        gateway.put("sparsemesh.log.spool.directory", root.resolve("standalone/target/full-stack-spool/gateway").toString());

        mesh = new EmbeddedMesh();
        mesh.start(topology, router);
        mesh.startGateway(gateway);
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void sdkCompletesThroughGateway() {
        ChatCompletion completion = sdk(KEY).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("stories260K").addUserMessage("Once upon a time").maxTokens(16).temperature(0.0).build());

        assertEquals(REFERENCE, completion.choices().getFirst().message().content().orElseThrow());
        assertEquals(16L, completion.usage().orElseThrow().completionTokens());
    }

    @Test
    void sdkStreamsThroughGateway() {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = sdk(KEY).chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Once upon a time")
                        .maxTokens(16).temperature(0.0).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(
                    choice -> choice.delta().content().ifPresent(text::append)));
        }
        assertEquals(REFERENCE, text.toString());
    }

    @Test
    void maxTokensBeyondContextIsRejected() {
        BadRequestException error = assertThrows(BadRequestException.class, () -> sdk(KEY).chat().completions().create(
                ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Once upon a time")
                        .maxCompletionTokens(200).build()));

        assertEquals("max_completion_tokens", error.param().orElseThrow());
        assertEquals("context_length_exceeded", error.code().orElseThrow());
        assertTrue(error.getMessage().contains("maximum context length is 128 tokens, but the request needs 205 tokens:"
                + " 5 in the messages plus 200"), error.getMessage());
    }

    @Test
    void unsupportedFieldIsRejected() {
        BadRequestException error = assertThrows(BadRequestException.class, () -> sdk(KEY).chat().completions().create(
                ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Once upon a time")
                        .maxTokens(4).frequencyPenalty(0.5).build()));

        assertEquals("frequency_penalty", error.param().orElseThrow());
        assertEquals("unsupported_parameter", error.code().orElseThrow());
    }

    @Test
    void wrongKeyIsUnauthorized() {
        assertThrows(UnauthorizedException.class, () -> sdk("sk-wrong").chat().completions().create(
                ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Once").maxTokens(2).build()));
    }

    @Test
    void requestAndGenerationRecordsReachKafka() throws Exception {
        String requestId = "full-stack-" + System.nanoTime();
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gatewayPort + "/v1/completions"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .header("X-Request-Id", requestId)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":4,\"temperature\":0}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(Optional.of(requestId), response.headers().firstValue("X-Request-Id"));

        String request = readRecord("sparsemesh.requests", requestId);
        assertTrue(request.contains("\"api_key_id\":\"tests\""), request);
        assertTrue(!request.contains(KEY), "the request record contains the API key");
        String generation = readRecord("sparsemesh.generations", requestId);
        assertTrue(generation.contains("\"completion_tokens\":4"), generation);
    }

    private static OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + gatewayPort + "/v1").apiKey(key)
                .maxRetries(0).build();
    }

    /** Reads {@code topic} from the start until a record with {@code key} arrives or 60 s pass. */
    private static String readRecord(String topic, String key) {
        Map<String, Object> properties = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<String> seen = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(record.key());
                    if (key.equals(record.key())) {
                        return record.value();
                    }
                }
            }
            throw new AssertionError("no record with key " + key + " in " + topic + " after 60 s; keys seen: " + seen);
        }
    }
}
