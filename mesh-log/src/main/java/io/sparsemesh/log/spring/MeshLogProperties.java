package io.sparsemesh.log.spring;

import io.sparsemesh.log.KafkaLogSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Where a service sends its Kafka log records ({@code sparsemesh.log.*}). Logging is off while
 * {@code sparsemesh.log.kafka.bootstrap-servers} is unset.
 *
 * @param kafka the broker and producer
 * @param spool the on-disk spool that holds records while the broker is unreachable
 */
@Validated
@ConfigurationProperties("sparsemesh.log")
public record MeshLogProperties(@Valid @DefaultValue Kafka kafka, @Valid @DefaultValue Spool spool) {

    /**
     * @param bootstrapServers    Kafka brokers, {@code host:port[,host:port…]}; default: unset, which turns logging off
     * @param clientId            Kafka client id; default: {@code spring.application.name}
     * @param deliveryTimeout     how long one delivery attempt may take before the broker counts as
     *                            unreachable and records stay in the spool; default 15 s
     * @param maxReconnectBackoff longest wait between delivery attempts while the broker is unreachable; default 10 s
     * @param producer            further Kafka producer properties (TLS, SASL, compression…); default none.
     *                            {@code enable.idempotence}, {@code acks} and the serialisers are fixed
     */
    public record Kafka(
            String bootstrapServers,
            String clientId,
            @DefaultValue("15s") @NotNull Duration deliveryTimeout,
            @DefaultValue("10s") @NotNull Duration maxReconnectBackoff,
            @DefaultValue Map<String, String> producer) {
    }

    /**
     * @param directory     spool directory, one per process; default
     *                      {@code ${java.io.tmpdir}/sparsemesh-spool/<spring.application.name>}, which
     *                      survives process restarts but not a cleared temporary directory
     * @param maxSize       bound on the unsent records per topic; default 64MB
     * @param queueCapacity records that may wait in memory to be written to the spool; default 10000
     */
    public record Spool(
            Path directory,
            @DefaultValue("64MB") @NotNull DataSize maxSize,
            @DefaultValue("10000") @Min(1) int queueCapacity) {
    }

    /** Whether a broker is configured. */
    public boolean enabled() {
        return kafka.bootstrapServers() != null && !kafka.bootstrapServers().isBlank();
    }

    /** The settings of the log, with defaults that depend on the application's name filled in. */
    public KafkaLogSettings toSettings(String applicationName) {
        String clientId = kafka.clientId() == null || kafka.clientId().isBlank() ? applicationName : kafka.clientId();
        Path directory = spool.directory() != null ? spool.directory()
                : Path.of(System.getProperty("java.io.tmpdir"), "sparsemesh-spool", applicationName);
        return new KafkaLogSettings(kafka.bootstrapServers(), clientId, directory, spool.maxSize().toBytes(),
                spool.queueCapacity(), kafka.deliveryTimeout(), kafka.maxReconnectBackoff(), kafka.producer());
    }
}
