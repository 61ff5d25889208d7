package io.sparsemesh.gateway;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.scripting.support.ResourceScriptSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rate limiter with Spring Cloud Gateway's token-bucket script, against the real Redis on
 * 127.0.0.1:6379, against a loopback port where no Redis listens, and against a server that
 * accepts connections but never replies.
 */
class ApiKeyRateLimiterTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void emptyBucketGivesRetryAfter() {
        String id = "retry-" + UUID.randomUUID();
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey(id, ApiKeyTool.sha256Hex(id), 0.25, 1);
        try (Redis redis = new Redis(6379)) {
            ApiKeyRateLimiter limiter = redis.limiter(key, GatewayProperties.RedisFailurePolicy.REJECT, new SimpleMeterRegistry());

            RateLimiter.Response first = limiter.isAllowed("openai", id).block(WAIT);
            RateLimiter.Response second = limiter.isAllowed("openai", id).block(WAIT);

            assertTrue(first.isAllowed());
            assertFalse(first.getHeaders().containsKey("Retry-After"));
            assertFalse(second.isAllowed());
            assertEquals("4", second.getHeaders().get("Retry-After"), "one token at 0.25 per second takes 4 s");
            assertEquals("0", second.getHeaders().get(ApiKeyRateLimiter.REMAINING_HEADER));
            assertEquals("1", second.getHeaders().get(ApiKeyRateLimiter.BURST_CAPACITY_HEADER));
        }
    }

    @Test
    void redisDownFailsOpenWhenAllowed() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey("open", ApiKeyTool.sha256Hex("open"), 1, 1);
        try (Redis redis = new Redis(deadPort())) {
            ApiKeyRateLimiter limiter = redis.limiter(key, GatewayProperties.RedisFailurePolicy.ALLOW, registry);

            for (int i = 0; i < 3; i++) {
                assertTrue(limiter.isAllowed("openai", "open").block(WAIT).isAllowed(), "request " + i);
            }
            assertEquals(3, registry.get("sparsemesh.gateway.ratelimit.redis.failures").tag("policy", "allow")
                    .counter().count());
        }
    }

    @Test
    void redisDownFailsClosedWhenRejecting() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey("closed", ApiKeyTool.sha256Hex("closed"), 1, 1);
        try (Redis redis = new Redis(deadPort())) {
            ApiKeyRateLimiter limiter = redis.limiter(key, GatewayProperties.RedisFailurePolicy.REJECT, registry);

            OpenAiErrorException error = assertThrows(OpenAiErrorException.class,
                    () -> limiter.isAllowed("openai", "closed").block(WAIT));
            assertEquals(503, error.error().status().value());
            assertEquals(1, registry.get("sparsemesh.gateway.ratelimit.redis.failures").tag("policy", "reject")
                    .counter().count());
        }
    }

    /** A Redis that accepts the connection but never replies: the command timeout (1 s here) applies. */
    @Test
    void silentRedisFailsOpenAfterTimeout() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey("slow", ApiKeyTool.sha256Hex("slow"), 1, 1);
        try (SilentServer silent = new SilentServer(); Redis redis = new Redis(silent.port())) {
            ApiKeyRateLimiter limiter = redis.limiter(key, GatewayProperties.RedisFailurePolicy.ALLOW, registry);

            assertTrue(limiter.isAllowed("openai", "slow").block(WAIT).isAllowed());
            assertEquals(1, registry.get("sparsemesh.gateway.ratelimit.redis.failures").tag("policy", "allow")
                    .counter().count());
        }
    }

    @Test
    void silentRedisFailsClosedWhenRejecting() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey("slow-closed", ApiKeyTool.sha256Hex("slow-closed"), 1, 1);
        try (SilentServer silent = new SilentServer(); Redis redis = new Redis(silent.port())) {
            ApiKeyRateLimiter limiter = redis.limiter(key, GatewayProperties.RedisFailurePolicy.REJECT, registry);

            OpenAiErrorException error = assertThrows(OpenAiErrorException.class,
                    () -> limiter.isAllowed("openai", "slow-closed").block(WAIT));
            assertEquals(503, error.error().status().value());
            assertFalse(error.error().message().contains("Exception"), error.error().message());
        }
    }

    /** A loopback server that accepts connections and reads what they send, but never writes. */
    private static final class SilentServer implements AutoCloseable {
        private final ServerSocket socket;
        private final List<Socket> accepted = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        SilentServer() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket client = socket.accept();
                        accepted.add(client);
                        Thread.ofVirtual().start(() -> drain(client));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        private static void drain(Socket client) {
            try (InputStream in = client.getInputStream()) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // the test closed the connection
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
            for (Socket client : accepted) {
                client.close();
            }
            acceptor.join();
        }
    }

    private static int deadPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }

    /** A Lettuce connection to Redis on a loopback port, with Spring Cloud Gateway's script. */
    private static final class Redis implements AutoCloseable {
        private final LettuceConnectionFactory factory;

        Redis(int port) {
            factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port),
                    LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
            factory.afterPropertiesSet();
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        ApiKeyRateLimiter limiter(GatewayProperties.ApiKey key, GatewayProperties.RedisFailurePolicy policy,
                                  SimpleMeterRegistry registry) {
            DefaultRedisScript script = new DefaultRedisScript<>();
            script.setScriptSource(new ResourceScriptSource(new ClassPathResource("META-INF/scripts/request_rate_limiter.lua")));
            script.setResultType(List.class);
            return new ApiKeyRateLimiter(new ApiKeys(List.of(key)), new ReactiveStringRedisTemplate(factory),
                    (RedisScript<List<Long>>) script, policy, registry);
        }

        @Override
        public void close() {
            factory.destroy();
        }
    }
}
