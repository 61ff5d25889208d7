package io.sparsemesh.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway app in front of a router that dies mid-request: a loopback server that reads each
 * request's headers and then resets the connection (SO_LINGER 0 sends RST), as a killed router's
 * kernel does. Redis is the real one on 127.0.0.1:6379 and the Kafka log is off.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class GatewayRouterResetTest {

    static final String KEY = ApiKeyTool.generateKey();
    static final ResettingUpstream UPSTREAM = new ResettingUpstream();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("sparsemesh.gateway.router-uri", () -> "http://127.0.0.1:" + UPSTREAM.port());
        registry.add("sparsemesh.gateway.api-keys[0].id", () -> "reset-test");
        registry.add("sparsemesh.gateway.api-keys[0].sha256", () -> ApiKeyTool.sha256Hex(KEY));
        registry.add("sparsemesh.gateway.api-keys[0].replenish-rate", () -> "1000");
        registry.add("sparsemesh.gateway.api-keys[0].burst-capacity", () -> "1000");
    }

    @AfterAll
    static void stopUpstream() throws IOException {
        UPSTREAM.close();
    }

    @Test
    void routerResetGets502() throws Exception {
        HttpResponse<String> response = GatewayRouterDownTest.postChatCompletion(port, KEY);

        assertTrue(UPSTREAM.resets() >= 1, "the upstream should have reset a connection");
        GatewayRouterDownTest.assertServerError(response, 502, "bad_gateway",
                "The model server closed the connection before responding; retry the request.");
    }

    @Test
    void resetAndBrokenPipeCountAsLost() {
        assertTrue(OpenAiErrorFilter.connectionLost(new IOException("recvAddress(..) failed: Connection reset by peer")));
        assertTrue(OpenAiErrorFilter.connectionLost(new RuntimeException("wrapped",
                new java.net.SocketException("Connection reset"))));
        assertTrue(OpenAiErrorFilter.connectionLost(new IOException("writev(..) failed: Broken pipe")));
        assertFalse(OpenAiErrorFilter.connectionLost(new IOException("No space left on device")));
        assertFalse(OpenAiErrorFilter.connectionLost(new IllegalStateException("Connection reset")),
                "only I/O errors are connection failures");
    }

    /** Accepts connections on loopback, reads the request headers, and resets the connection. */
    static final class ResettingUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final AtomicInteger resets = new AtomicInteger();

        ResettingUpstream() {
            try {
                server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException("failed to listen on loopback", e);
            }
            Thread.ofVirtual().name("resetting-upstream").start(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        int resets() {
            return resets.get();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                            StandardCharsets.ISO_8859_1));
                    String line = reader.readLine();
                    while (line != null && !line.isEmpty()) {
                        line = reader.readLine();
                    }
                    socket.setSoLinger(true, 0);
                    resets.incrementAndGet();
                } catch (IOException e) {
                    // closed by close(), or the gateway gave up on the connection
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
