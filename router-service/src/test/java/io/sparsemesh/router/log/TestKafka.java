package io.sparsemesh.router.log;

import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One embedded broker for the tests of this JVM, a reader of records by key, and the repository root. */
final class TestKafka {

    private static EmbeddedKafkaBroker broker;

    private TestKafka() {
    }

    static synchronized EmbeddedKafkaBroker broker() {
        if (broker == null) {
            broker = EmbeddedKafkaBroker.startTemporary();
        }
        return broker;
    }

    /** Returns the repository root: the nearest folder above the working directory that has {@code models/}. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no models/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** Reads partition 0 of {@code topic} from the start until a record with {@code key} arrives or 60 s pass. */
    static byte[] readValue(String topic, String key) {
        List<byte[]> values = readValues(topic, key, 1);
        return values.isEmpty() ? null : values.getFirst();
    }

    /**
     * Reads partition 0 of {@code topic} from the start until {@code count} records with {@code key}
     * arrive or 60 s pass, and returns their values in offset order.
     */
    static List<byte[]> readValues(String topic, String key, int count) {
        Map<String, Object> properties = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker().bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<byte[]> values = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(properties)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(record.key())) {
                        values.add(record.value());
                    }
                }
            }
        }
        return values;
    }
}
