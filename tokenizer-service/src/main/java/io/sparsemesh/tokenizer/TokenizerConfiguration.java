package io.sparsemesh.tokenizer;

import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatTemplate;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/** Wires the model-core tokenizer and chat template into {@link TokenizerGrpcService}; Spring gRPC serves it. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TokenizerProperties.class)
class TokenizerConfiguration {

    private static final Logger log = LoggerFactory.getLogger(TokenizerConfiguration.class);

    @Bean
    Tokenizer tokenizer(TokenizerProperties properties) {
        return Tokenizers.open(properties.tokenizerSource());
    }

    @Bean
    ChatTemplate chatTemplate(TokenizerProperties properties) {
        return ChatTemplates.open(properties.tokenizerSource());
    }

    @Bean
    TokenizerMetrics tokenizerMetrics(MeterRegistry registry) {
        return new TokenizerMetrics(registry);
    }

    @Bean
    TokenizerGrpcService tokenizerGrpcService(TokenizerProperties properties, Tokenizer tokenizer, ChatTemplate chatTemplate,
                                              TokenizerMetrics metrics) {
        return new TokenizerGrpcService(properties.modelName(), tokenizer, chatTemplate, properties.limits(), metrics);
    }

    @Bean
    ApplicationListener<GrpcServerStartedEvent> grpcStartedLogger() {
        return event -> log.info("Tokenizer gRPC server listening on {}", event.getAddress());
    }
}
