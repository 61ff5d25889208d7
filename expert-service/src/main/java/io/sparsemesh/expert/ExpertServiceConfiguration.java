package io.sparsemesh.expert;

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
}
