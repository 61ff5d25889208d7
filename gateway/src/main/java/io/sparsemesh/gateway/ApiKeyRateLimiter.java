package io.sparsemesh.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.log.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A token bucket per API key, kept in Redis by Spring Cloud Gateway's rate-limiter script, with
 * each key's own replenish rate and burst capacity. Used by the route's {@code RequestRateLimiter}
 * filter (the rate limiter key is the API key id), which responds with 429 when a bucket is empty.
 * This class adds {@code Retry-After} and the {@code X-RateLimit-*} headers to that response.
 *
 * <p>When Redis cannot be reached, {@link GatewayProperties.RedisFailurePolicy} decides: ALLOW
 * serves the request without a limit, REJECT responds with 503. Either way the failure is counted in
 * {@code sparsemesh.gateway.ratelimit.redis.failures{policy}} and logged at most every 10 seconds.
 */
final class ApiKeyRateLimiter implements RateLimiter<Object> {

    static final String REMAINING_HEADER = "X-RateLimit-Remaining";
    static final String REPLENISH_RATE_HEADER = "X-RateLimit-Replenish-Rate";
    static final String BURST_CAPACITY_HEADER = "X-RateLimit-Burst-Capacity";
    /** Each request takes one token. */
    private static final int REQUESTED_TOKENS = 1;

    private static final Logger log = LoggerFactory.getLogger(ApiKeyRateLimiter.class);

    private final ApiKeys apiKeys;
    private final ReactiveStringRedisTemplate redis;
    private final RedisScript<List<Long>> script;
    private final GatewayProperties.RedisFailurePolicy onRedisFailure;
    private final Counter redisFailures;
    private final MeterRegistry registry;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, Duration.ofSeconds(10));

    ApiKeyRateLimiter(ApiKeys apiKeys, ReactiveStringRedisTemplate redis, RedisScript<List<Long>> script,
                      GatewayProperties.RedisFailurePolicy onRedisFailure, MeterRegistry registry) {
        this.apiKeys = apiKeys;
        this.redis = redis;
        this.script = script;
        this.onRedisFailure = onRedisFailure;
        this.registry = registry;
        this.redisFailures = Counter.builder("sparsemesh.gateway.ratelimit.redis.failures")
                .description("Rate limit checks that failed because Redis could not be reached")
                .tag("policy", onRedisFailure.name().toLowerCase(java.util.Locale.ROOT))
                .register(registry);
    }

    @Override
    public Mono<Response> isAllowed(String routeId, String apiKeyId) {
        GatewayProperties.ApiKey key = apiKeys.byId(apiKeyId).orElse(null);
        if (key == null) {
            return Mono.error(new IllegalStateException("no API key with id '" + apiKeyId + "' is configured"));
        }
        // Braces make Redis Cluster keep both keys of a bucket in one slot.
        String prefix = "sparsemesh.rate_limit.{" + apiKeyId + "}.";
        List<String> keys = List.of(prefix + "tokens", prefix + "timestamp");
        List<String> arguments = List.of(Double.toString(key.replenishRate()), Long.toString(key.burstCapacity()), "",
                Integer.toString(REQUESTED_TOKENS));

        return redis.execute(script, keys, arguments)
                .reduce(new ArrayList<Long>(), (all, part) -> {
                    all.addAll(part);
                    return all;
                })
                .map(result -> response(key, result.get(0) == 1L, result.get(1)))
                .onErrorResume(error -> redisFailed(key, error));
    }

    private Response response(GatewayProperties.ApiKey key, boolean allowed, long tokensLeft) {
        Map<String, String> headers = new HashMap<>();
        headers.put(REMAINING_HEADER, Long.toString(tokensLeft));
        headers.put(REPLENISH_RATE_HEADER, Double.toString(key.replenishRate()));
        headers.put(BURST_CAPACITY_HEADER, Long.toString(key.burstCapacity()));
        if (!allowed) {
            // The bucket contains fewer tokens than a request takes; this is when enough will have flowed back.
            double seconds = (REQUESTED_TOKENS - tokensLeft) / key.replenishRate();
            headers.put(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, (long) Math.ceil(seconds))));
            Counter.builder("sparsemesh.gateway.ratelimit.rejected")
                    .description("Requests rejected with 429 because their API key's bucket was empty")
                    .tag("key", key.id())
                    .register(registry)
                    .increment();
        }
        return new Response(allowed, headers);
    }

    private Mono<Response> redisFailed(GatewayProperties.ApiKey key, Throwable error) {
        redisFailures.increment();
        failureLog.warn("Rate limit check in Redis failed; policy " + onRedisFailure + (onRedisFailure
                == GatewayProperties.RedisFailurePolicy.ALLOW ? " serves the request without a limit"
                : " rejects the request with 503") + " (last key '" + key.id() + "')", error.toString());
        return switch (onRedisFailure) {
            case ALLOW -> Mono.just(new Response(true, Map.of()));
            case REJECT -> Mono.error(new OpenAiErrorException(new OpenAiError(HttpStatus.SERVICE_UNAVAILABLE,
                    "The rate limiter is unavailable, so requests for key '" + key.id() + "' cannot be admitted;"
                            + " retry later.", OpenAiError.SERVER_ERROR, null, null)));
        };
    }

    @Override
    public Map<String, Object> getConfig() {
        return Map.of();
    }

    @Override
    public Class<Object> getConfigClass() {
        return Object.class;
    }

    @Override
    public Object newConfig() {
        return new Object();
    }
}
