package io.sparsemesh.router.health;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The router's health indicators for the services behind it: {@code tokenizer},
 * {@code attention} and {@code expertShards}. {@code sparsemesh-router-service.yaml} adds them to
 * the readiness group only, because restarting the router does not bring a backend back.
 */
@Configuration(proxyBeanMethods = false)
class BackendHealthConfiguration {

    @Bean
    ServiceUnitsHealthIndicator tokenizerHealthIndicator(BackendProbe probe) {
        return new ServiceUnitsHealthIndicator(probe, BackendReport::tokenizer);
    }

    @Bean
    ServiceUnitsHealthIndicator attentionHealthIndicator(BackendProbe probe) {
        return new ServiceUnitsHealthIndicator(probe, BackendReport::attention);
    }

    @Bean
    ServiceUnitsHealthIndicator expertShardsHealthIndicator(BackendProbe probe) {
        return new ServiceUnitsHealthIndicator(probe, BackendReport::expertShards);
    }
}
