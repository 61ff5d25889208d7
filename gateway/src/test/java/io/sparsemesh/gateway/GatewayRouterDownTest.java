package io.sparsemesh.gateway;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway app with its router URI on a loopback port where nothing listens, as when the
 * router is down or restarting; Redis is the real one on 127.0.0.1:6379 and the Kafka log is off.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class GatewayRouterDownTest {

    static final String KEY = ApiKeyTool.generateKey();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("sparsemesh.gateway.router-uri", () -> "http://127.0.0.1:" + deadPort());
        registry.add("sparsemesh.gateway.api-keys[0].id", () -> "down-test");
        registry.add("sparsemesh.gateway.api-keys[0].sha256", () -> ApiKeyTool.sha256Hex(KEY));
        registry.add("sparsemesh.gateway.api-keys[0].replenish-rate", () -> "1000");
        registry.add("sparsemesh.gateway.api-keys[0].burst-capacity", () -> "1000");
    }

    @Test
    void routerDownGets503() throws Exception {
        HttpResponse<String> response = postChatCompletion(port, KEY);

        assertServerError(response, 503, "unavailable", "The model server is unavailable; retry later.");
    }

    /** Sends an empty chat completion request to the gateway on {@code port}. */
    static HttpResponse<String> postChatCompletion(int port, String key) throws Exception {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/v1/chat/completions")).header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Checks that {@code response} is the gateway's OpenAI-shaped {@code server_error} with this status, code and message. */
    static void assertServerError(HttpResponse<String> response, int status, String code, String message) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(null));
        assertTrue(response.headers().firstValue("X-Request-Id").isPresent());
        JsonNode error = JsonMapper.builder().build().readTree(response.body()).get("error");
        assertEquals("server_error", error.get("type").asString());
        assertEquals(code, error.get("code").asString());
        assertTrue(error.get("param").isNull());
        assertEquals(message, error.get("message").asString());
        assertFalse(error.get("message").asString().contains("127.0.0.1"), "no internal address: " + message);
    }

    private static int deadPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }
}
