package io.sparsemesh.router.openai;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the OpenAI-compatible API's metrics; {@link OpenAiController} is found by component scanning. */
@Configuration(proxyBeanMethods = false)
class OpenAiConfiguration {

    @Bean
    OpenAiMetrics openAiMetrics(MeterRegistry registry) {
        return new OpenAiMetrics(registry);
    }
}
