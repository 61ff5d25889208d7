package io.sparsemesh.log.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.log.MeshLog;
import io.sparsemesh.log.SpoolingKafkaLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Provides the service's {@link MeshLog}: a {@link SpoolingKafkaLog} when
 * {@code sparsemesh.log.kafka.bootstrap-servers} is set, else a log that discards records. Import
 * it into a service's configuration; it is not an auto-configuration.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(MeshLogProperties.class)
public class MeshLogConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MeshLogConfiguration.class);

    @Bean(destroyMethod = "close")
    public MeshLog meshLog(MeshLogProperties properties, Environment environment,
                           ObjectProvider<MeterRegistry> registry) {
        if (!properties.enabled()) {
            log.info("Kafka log is off: sparsemesh.log.kafka.bootstrap-servers is not set");
            return MeshLog.disabled();
        }
        String applicationName = environment.getProperty("spring.application.name", "sparsemesh");
        return SpoolingKafkaLog.open(properties.toSettings(applicationName), registry.getIfAvailable(SimpleMeterRegistry::new));
    }
}
