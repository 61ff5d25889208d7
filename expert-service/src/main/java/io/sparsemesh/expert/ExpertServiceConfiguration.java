package io.sparsemesh.expert;

import io.grpc.ServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.server.lifecycle.GrpcServerShutdownEvent;

/**
 * Wires the hosted shard and its gRPC service. Spring gRPC registers every {@code BindableService}
 * bean on its server, next to the gRPC health and reflection services.
 *
 * <p>Graceful shutdown (SIGTERM or context close): Spring gRPC's server lifecycle publishes a
 * {@link GrpcServerShutdownEvent}, on which the service drains (turns away new streams and ends
 * open ones after their current request), then calls {@code Server.shutdown()} and waits up to
 * {@code spring.grpc.server.shutdown-grace-period} for in-flight requests before forcing the rest
 * closed. The shard's mapped tensors are released only after that, when the context destroys its beans.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(ExpertServiceProperties.class)
class ExpertServiceConfiguration {

    private static final Logger log = LoggerFactory.getLogger(ExpertServiceConfiguration.class);


    @Bean(destroyMethod = "close")
    HostedShard hostedShard(ExpertServiceProperties properties) {
        return HostedShard.load(properties.model(), properties.shard(), properties.shardCount(),
                properties.densePlacement());
    }

    @Bean
    ExpertsGrpcService expertsGrpcService(HostedShard hostedShard, MeterRegistry registry,
                                          ExpertServiceProperties properties) {
        return new ExpertsGrpcService(hostedShard, registry, properties.maxRowsPerRequest());
    }

    /** Drains the service when the gRPC server begins to shut down, before it stops taking calls. */
    @Bean
    ApplicationListener<GrpcServerShutdownEvent> drainOnShutdown(ExpertsGrpcService service) {
        return event -> service.drain();
    }

    /**
     * Runs each stream's requests on the Netty event loop that reads them, because a layer's compute
     * is short and handing each message to an executor thread costs a wake-up on the hot path. Set
     * {@code sparsemesh.grpc.server.direct-executor=false} when one request's compute is long enough
     * to delay other streams on the same event loop.
     *
     * <p>NOTE: the attention and expert services declare this bean alike, because no module that
     * both depend on uses Spring.
     */
    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    @ConditionalOnProperty(name = "sparsemesh.grpc.server.direct-executor", havingValue = "true", matchIfMissing = true)
    <T extends ServerBuilder<T>> ServerBuilderCustomizer<T> directExecutor() {
        return builder -> {
            log.info("The gRPC server runs requests on its transport threads (direct executor)");
            builder.directExecutor();
        };
    }
}
