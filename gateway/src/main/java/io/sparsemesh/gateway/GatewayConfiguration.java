package io.sparsemesh.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.log.MeshLog;
import io.sparsemesh.log.spring.MeshLogConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Mono;
import reactor.netty.NettyPipeline;

import java.util.List;

/**
 * Wires the gateway's filters. The route itself ({@code /v1/**} to the router, with the
 * {@code RequestSize} and {@code RequestRateLimiter} filters) is defined in {@code application.yaml}
 * under {@code spring.cloud.gateway.server.webflux.routes}.
 */
@Configuration(proxyBeanMethods = false)
@Import(MeshLogConfiguration.class)
class GatewayConfiguration {

    private static final Logger log = LoggerFactory.getLogger(GatewayConfiguration.class);

    /** Name of {@link DecodingFailureBodyHandler} in each connection's Netty pipeline. */
    private static final String DECODING_FAILURE_HANDLER = "sparsemesh.decodingFailureBody";

    /** Name of Spring Cloud Gateway's token-bucket script bean. */
    private static final String RATE_LIMITER_SCRIPT = "redisRequestRateLimiterScript";

    @Bean
    ApiKeys apiKeys(GatewayProperties properties) {
        ApiKeys keys = new ApiKeys(properties.apiKeys());
        if (keys.size() == 0) {
            log.warn("No API keys are configured (sparsemesh.gateway.api-keys): every API request gets 401");
        } else {
            log.info("Gateway serves {} under /v1 for API keys {}; rate limiter on Redis failure: {}",
                    properties.routerUri(), properties.apiKeys().stream().map(GatewayProperties.ApiKey::id).toList(),
                    properties.rateLimit().onRedisFailure());
        }
        return keys;
    }

    @Bean
    RequestLogFilter requestLogFilter(MeshLog meshLog) {
        return new RequestLogFilter(meshLog);
    }

    @Bean
    OpenAiErrorFilter openAiErrorFilter() {
        return new OpenAiErrorFilter();
    }

    @Bean
    ApiKeyAuthenticationFilter apiKeyAuthenticationFilter(ApiKeys apiKeys, MeterRegistry registry) {
        return new ApiKeyAuthenticationFilter(apiKeys, registry);
    }

    @Bean
    RequestBodyLimitFilter requestBodyLimitFilter(GatewayProperties properties) {
        return new RequestBodyLimitFilter(properties.maxRequestSize());
    }

    /** The rate limiter of the route; primary over the auto-configured {@code RedisRateLimiter}. */
    @Bean
    @Primary
    ApiKeyRateLimiter apiKeyRateLimiter(ApiKeys apiKeys, ReactiveStringRedisTemplate redis,
                                        @Qualifier(RATE_LIMITER_SCRIPT) RedisScript<List<Long>> script,
                                        GatewayProperties properties, MeterRegistry registry) {
        return new ApiKeyRateLimiter(apiKeys, redis, script, properties.rateLimit().onRedisFailure(), registry);
    }

    /**
     * Adds {@link DecodingFailureBodyHandler} to every connection, so the 400, 414 and 431 responses
     * that Reactor Netty sends for requests it cannot decode carry an OpenAI-shaped body too.
     */
    @Bean
    NettyServerCustomizer decodingFailureBodies(
            @Value("${server.max-http-request-header-size:8KB}") DataSize maxHeaderSize,
            @Value("${server.netty.max-initial-line-length:4KB}") DataSize maxInitialLineLength) {
        return server -> server.doOnChannelInit((observer, channel, remoteAddress) -> {
            if (channel.pipeline().get(NettyPipeline.HttpCodec) != null) {
                channel.pipeline().addAfter(NettyPipeline.HttpCodec, DECODING_FAILURE_HANDLER,
                        new DecodingFailureBodyHandler(maxHeaderSize.toBytes(), maxInitialLineLength.toBytes()));
            }
        });
    }

    /** Rate-limits by the id of the authenticated API key. */
    @Bean
    @Primary
    KeyResolver apiKeyIdResolver() {
        return exchange -> Mono.justOrEmpty(exchange.<String>getAttribute(ApiKeyAuthenticationFilter.API_KEY_ID_ATTRIBUTE));
    }
}
