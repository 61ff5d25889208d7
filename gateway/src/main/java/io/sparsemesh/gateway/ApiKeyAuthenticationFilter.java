package io.sparsemesh.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

import java.util.Optional;

/**
 * Admits only requests that carry a configured API key as {@code Authorization: Bearer <key>}.
 * Others get 401 with OpenAI's {@code invalid_api_key} error. The key id goes into an exchange
 * attribute for the rate limiter and the request log, and the {@code Authorization} header is
 * removed, so the key never reaches the router.
 */
final class ApiKeyAuthenticationFilter implements GlobalFilter, Ordered {

    static final String API_KEY_ID_ATTRIBUTE = ApiKeyAuthenticationFilter.class.getName() + ".apiKeyId";
    /** Before every route filter (those are ordered 1, 2, … by position), so rate limits apply per key. */
    static final int ORDER = -100;

    private static final Logger log = LoggerFactory.getLogger(ApiKeyAuthenticationFilter.class);
    private static final String BEARER = "Bearer ";

    private final ApiKeys apiKeys;
    private final Counter missing;
    private final Counter invalid;

    ApiKeyAuthenticationFilter(ApiKeys apiKeys, MeterRegistry registry) {
        this.apiKeys = apiKeys;
        this.missing = failures(registry, "missing");
        this.invalid = failures(registry, "invalid");
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        String authorization = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        String presented = bearerToken(authorization);
        if (presented == null) {
            missing.increment();
            return reject(exchange, "Missing API key: send it in the Authorization header as 'Bearer <key>'.");
        }
        Optional<GatewayProperties.ApiKey> key = apiKeys.authenticate(presented);
        if (key.isEmpty()) {
            invalid.increment();
            return reject(exchange, "Invalid API key: the key in the Authorization header is not accepted by this server.");
        }

        exchange.getAttributes().put(API_KEY_ID_ATTRIBUTE, key.get().id());
        ServerHttpRequest withoutKey = exchange.getRequest().mutate()
                .headers(headers -> headers.remove(HttpHeaders.AUTHORIZATION))
                .build();
        return chain.filter(exchange.mutate().request(withoutKey).build());
    }

    private static String bearerToken(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        String token = authorization.substring(BEARER.length()).strip();
        return token.isEmpty() ? null : token;
    }

    private static Mono<Void> reject(ServerWebExchange exchange, String message) {
        log.debug("Request {} rejected: {}", RequestLogFilter.requestId(exchange), message);
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        return Mono.error(new OpenAiErrorException(new OpenAiError(HttpStatus.UNAUTHORIZED, message,
                OpenAiError.INVALID_REQUEST, null, "invalid_api_key")));
    }

    private static Counter failures(MeterRegistry registry, String reason) {
        return Counter.builder("sparsemesh.gateway.auth.failures")
                .description("Requests rejected for a missing or invalid API key")
                .tag("reason", reason)
                .register(registry);
    }
}
