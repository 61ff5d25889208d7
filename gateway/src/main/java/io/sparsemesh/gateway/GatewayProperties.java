package io.sparsemesh.gateway;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Gateway settings ({@code sparsemesh.gateway.*}). The defaults of {@code router-uri} and
 * {@code max-request-size} are set in {@code application.yaml}, because the route definition
 * there reads them too. Timeouts towards the router are Spring Cloud Gateway's own
 * {@code spring.cloud.gateway.server.webflux.httpclient.connect-timeout} and {@code response-timeout}.
 *
 * @param routerUri      base URI of the router's HTTP API; default http://127.0.0.1:8081
 * @param maxRequestSize largest request body accepted, larger ones get 413; default 1MB
 * @param apiKeys        accepted API keys; default none, which rejects every request to the API with 401
 * @param rateLimit      behaviour of the Redis-backed rate limiter
 */
@Validated
@ConfigurationProperties("sparsemesh.gateway")
public record GatewayProperties(
        @NotNull URI routerUri,
        @NotNull DataSize maxRequestSize,
        @Valid @DefaultValue List<ApiKey> apiKeys,
        @Valid @DefaultValue RateLimit rateLimit) {

    public GatewayProperties {
        Set<String> ids = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (ApiKey key : apiKeys) {
            if (!ids.add(key.id())) {
                throw new IllegalArgumentException("API key id '" + key.id() + "' is configured twice; give each key its own id");
            }
            if (!hashes.add(key.sha256())) {
                throw new IllegalArgumentException("API keys '" + key.id() + "' and another one have the same SHA-256 hash;"
                        + " each key must be distinct");
            }
        }
    }

    /**
     * One accepted API key. Clients send the key as {@code Authorization: Bearer <key>}; only its
     * hash is configured.
     *
     * @param id            name of the key in logs, metrics and the request log; not secret
     * @param sha256        lower-case hex SHA-256 of the key's UTF-8 bytes ({@code ApiKeyTool} prints it)
     * @param replenishRate requests per second the key may make on average; default 10
     * @param burstCapacity requests the key may make at once after a quiet period; default 20, at least {@code replenishRate}
     */
    public record ApiKey(
            @NotBlank String id,
            @NotNull @Pattern(regexp = "[0-9a-fA-F]{64}", message = "must be 64 hex digits (a SHA-256 hash)") String sha256,
            @DefaultValue("10") double replenishRate,
            @DefaultValue("20") long burstCapacity) {

        public ApiKey {
            if (sha256 != null) {
                sha256 = sha256.toLowerCase(Locale.ROOT);
            }
            if (!(replenishRate > 0)) {
                throw new IllegalArgumentException("replenish rate of API key '" + id + "' is " + replenishRate
                        + "; it must be above 0");
            }
            if (burstCapacity < replenishRate) {
                throw new IllegalArgumentException("burst capacity " + burstCapacity + " of API key '" + id
                        + "' is below its replenish rate " + replenishRate + "; raise the burst capacity");
            }
        }

        /** Hides the hash: it is not the key, but it need not be in logs either. */
        @Override
        public String toString() {
            return "ApiKey[id=" + id + ", replenishRate=" + replenishRate + ", burstCapacity=" + burstCapacity + "]";
        }
    }

    /**
     * @param onRedisFailure what the rate limiter does when Redis cannot be reached: ALLOW (default)
     *                       lets the request through, REJECT responds with 503
     */
    public record RateLimit(@DefaultValue("ALLOW") RedisFailurePolicy onRedisFailure) {
    }

    /** What the rate limiter does while Redis is unreachable. */
    public enum RedisFailurePolicy {
        /** Fail open: serve the request without a limit, so a Redis outage does not stop the API. */
        ALLOW,
        /** Fail closed: respond with 503, so no key can exceed its limit while Redis is out. */
        REJECT
    }
}
