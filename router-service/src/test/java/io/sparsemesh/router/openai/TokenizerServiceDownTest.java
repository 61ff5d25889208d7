package io.sparsemesh.router.openai;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The router's HTTP API while its tokenizer service is down: a loopback port where nothing
 * listens. The client gets a 503 in OpenAI's shape that names no internal call.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TokenizerServiceDownTest {

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.grpc.server.port", OpenAiApiTest::freePort);
        registry.add("sparsemesh.router.model", () -> OpenAiApiTest.repositoryRoot()
                .resolve("models/stories260K/stories260K.gguf").toString());
        registry.add("sparsemesh.router.mesh.tokenizer", () -> "127.0.0.1:" + OpenAiApiTest.freePort());
    }

    @Test
    void textPromptGets503() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/v1/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(OpenAiApiTest.completionBody("\"max_tokens\": 2"))).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(503, response.statusCode(), response.body());
            JsonNode error = OpenAiApiTest.JSON.readTree(response.body()).get("error");
            assertEquals("server_error", error.get("type").stringValue());
            assertEquals("unavailable", error.get("code").stringValue());
            String message = error.get("message").stringValue();
            assertEquals("The server cannot take requests: its tokenizer service failed or did not respond in time."
                    + " Retry the request.", message);
            for (String internal : new String[] {"Encode", "UNAVAILABLE", "Exception", "io.grpc", "sparsemesh."}) {
                assertFalse(message.contains(internal), "names " + internal + ": " + message);
            }
        }
    }
}
