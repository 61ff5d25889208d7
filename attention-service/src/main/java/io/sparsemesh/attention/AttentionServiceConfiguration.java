package io.sparsemesh.attention;

import io.grpc.ServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the attention model, the server core and the gRPC service from {@link AttentionProperties}. */
@Configuration(proxyBeanMethods = false)
public class AttentionServiceConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AttentionServiceConfiguration.class);


    @Bean(destroyMethod = "close")
    AttentionModel attentionModel(AttentionProperties properties) {
        return AttentionModel.open(properties.model(), properties.firstLayer(), properties.endLayer());
    }

    @Bean(destroyMethod = "close")
    AttentionServer attentionServer(AttentionModel model, AttentionProperties properties, MeterRegistry meters) {
        ModelConfig config = model.config();
        int contextLength = properties.contextLength() != null ? properties.contextLength()
                : Math.min(config.maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        AttentionLimits limits = new AttentionLimits(properties.maxSequences(), properties.maxCachedTokens(),
                properties.idleTimeout(), contextLength);
        return new AttentionServer(model, limits, meters);
    }

    @Bean
    AttentionGrpcService attentionGrpcService(AttentionServer server) {
        return new AttentionGrpcService(server);
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
