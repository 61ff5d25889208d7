package io.sparsemesh.log;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a {@link SpoolingKafkaLog}.
 *
 * @param bootstrapServers   Kafka bootstrap servers, {@code host:port[,host:port…]}
 * @param clientId           Kafka client id, shown in broker logs and metrics
 * @param spoolDirectory     directory of the on-disk spool, one subdirectory per topic; one process at a time
 * @param spoolMaxBytes      bound on the unsent bytes per topic; records beyond it are dropped and counted
 * @param queueCapacity      records that may wait in memory to be written to the spool
 * @param deliveryTimeout    how long the producer tries to deliver a record before the log treats the
 *                           broker as unreachable and retries the record later
 * @param maxReconnectBackoff longest wait between delivery attempts while the broker is unreachable
 *                           (the wait starts at 1/20 of it and doubles)
 * @param producerProperties further producer properties, e.g. TLS or SASL settings; they cannot
 *                           change idempotence, acks or the serialisers
 */
public record KafkaLogSettings(String bootstrapServers, String clientId, Path spoolDirectory, long spoolMaxBytes,
                               int queueCapacity, Duration deliveryTimeout, Duration maxReconnectBackoff,
                               Map<String, String> producerProperties) {

    /** Default {@code spoolMaxBytes}: 64 MiB per topic. */
    public static final long DEFAULT_SPOOL_MAX_BYTES = 64L * 1024 * 1024;
    /** Default {@code queueCapacity}. */
    public static final int DEFAULT_QUEUE_CAPACITY = 10_000;
    /** Default {@code deliveryTimeout}. */
    public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofSeconds(15);
    /** Default {@code maxReconnectBackoff}. */
    public static final Duration DEFAULT_MAX_RECONNECT_BACKOFF = Duration.ofSeconds(10);

    /** The shortest delivery timeout: the producer needs room for a request timeout and linger. */
    static final Duration MIN_DELIVERY_TIMEOUT = Duration.ofSeconds(1);

    public KafkaLogSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("Kafka bootstrap servers are not set; give host:port of at least one broker");
        }
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(spoolDirectory, "spoolDirectory");
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queue capacity is " + queueCapacity + "; it must be at least 1");
        }
        if (deliveryTimeout.compareTo(MIN_DELIVERY_TIMEOUT) < 0) {
            throw new IllegalArgumentException("delivery timeout " + deliveryTimeout + " is below the minimum of "
                    + MIN_DELIVERY_TIMEOUT);
        }
        if (maxReconnectBackoff.isNegative() || maxReconnectBackoff.isZero()) {
            throw new IllegalArgumentException("max reconnect backoff " + maxReconnectBackoff + " must be positive");
        }
        producerProperties = producerProperties == null ? Map.of() : Map.copyOf(producerProperties);
    }

    /** Settings with the defaults above. */
    public static KafkaLogSettings defaults(String bootstrapServers, String clientId, Path spoolDirectory) {
        return new KafkaLogSettings(bootstrapServers, clientId, spoolDirectory, DEFAULT_SPOOL_MAX_BYTES,
                DEFAULT_QUEUE_CAPACITY, DEFAULT_DELIVERY_TIMEOUT, DEFAULT_MAX_RECONNECT_BACKOFF, Map.of());
    }

    public KafkaLogSettings withSpoolMaxBytes(long bytes) {
        return new KafkaLogSettings(bootstrapServers, clientId, spoolDirectory, bytes, queueCapacity, deliveryTimeout,
                maxReconnectBackoff, producerProperties);
    }

    public KafkaLogSettings withDeliveryTimeout(Duration timeout, Duration maxBackoff) {
        return new KafkaLogSettings(bootstrapServers, clientId, spoolDirectory, spoolMaxBytes, queueCapacity, timeout,
                maxBackoff, producerProperties);
    }

    /** Hides values of producer properties, which may hold passwords. */
    @Override
    public String toString() {
        return "KafkaLogSettings[bootstrapServers=" + bootstrapServers + ", clientId=" + clientId
                + ", spoolDirectory=" + spoolDirectory + ", spoolMaxBytes=" + spoolMaxBytes
                + ", queueCapacity=" + queueCapacity + ", deliveryTimeout=" + deliveryTimeout
                + ", maxReconnectBackoff=" + maxReconnectBackoff
                + ", producerProperties=" + producerProperties.keySet() + "]";
    }
}
