package io.sparsemesh.attention;

import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the attention model, the server core and the gRPC service from {@link AttentionProperties}. */
@Configuration(proxyBeanMethods = false)
public class AttentionServiceConfiguration {

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
}
