package io.sparsemesh.router.log;

import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.log.MeshLog;
import io.sparsemesh.log.spring.MeshLogConfiguration;
import io.sparsemesh.router.RouterMetrics;
import io.sparsemesh.router.RouterProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import java.time.Clock;

/** Wires the router's Kafka log: generation records and expert load, when a broker is configured. */
@Configuration(proxyBeanMethods = false)
@Import(MeshLogConfiguration.class)
class RouterLogConfiguration {

    private static final Logger log = LoggerFactory.getLogger(RouterLogConfiguration.class);

    @Bean
    GenerationEventsDecorator generationEventsDecorator(MeshLog meshLog, RouterProperties router,
                                                        RouterLogProperties properties) {
        if (meshLog instanceof MeshLog.Disabled) {
            return GenerationEventsDecorator.none();
        }
        log.info("Generation records for model {} go to Kafka, {}", router.resolvedModelId(),
                properties.contentEnabled() ? "with prompt and completion text" : "without text");
        return new GenerationLogger(meshLog, router.resolvedModelId(), properties.contentEnabled(), Clock.systemUTC());
    }

    @Bean(destroyMethod = "close")
    ExpertLoadPublisher expertLoadPublisher(MeshLog meshLog, RouterMetrics metrics, RouterProperties router,
                                            ModelCheckpoint checkpoint, RouterLogProperties properties) {
        ExpertLoadPublisher publisher = new ExpertLoadPublisher(meshLog, metrics, router.resolvedModelId(),
                checkpoint.config().numLayers(), Clock.systemUTC());
        if (!(meshLog instanceof MeshLog.Disabled) && checkpoint.config().moe() != null) {
            publisher.start(properties.expertLoadInterval());
        }
        return publisher;
    }
}
