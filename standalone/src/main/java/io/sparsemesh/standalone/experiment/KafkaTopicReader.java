package io.sparsemesh.standalone.experiment;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Reads {@code sparsemesh.generations} records from a live Kafka topic for a replay. The consumer
 * is assigned every partition and commits nothing, so it joins no consumer group and leaves no
 * offsets behind. It reads the records that are in the topic when it starts, at most
 * {@code max_records} of them, and returns them in timestamp order.
 */
final class KafkaTopicReader {

    private static final Logger log = LoggerFactory.getLogger(KafkaTopicReader.class);

    /**
     * How long the brokers may stay silent, for metadata, offsets and each wait for records, unless
     * the plan sets the consumer property {@code default.api.timeout.ms}.
     */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(500);

    private KafkaTopicReader() {
    }

    /** Position of one record in the topic. */
    record RecordPosition(int partition, long offset) {
    }

    /**
     * Records read from the topic, in timestamp order.
     *
     * @param positions   where each value was read, in the same order, for a resumed sweep to read again
     * @param description the topic, brokers and offsets, for the report
     */
    record Read(List<RecordedValue> values, List<RecordPosition> positions, String description) {
    }

    /**
     * Reads up to {@code maxRecords} records: from each partition, the first (earliest) or last
     * (latest) that many, then the oldest or newest of those by timestamp.
     *
     * @throws ReplayException when the brokers do not respond, the topic does not exist or is empty
     */
    static Read read(ExperimentPlan.KafkaTopic topic) {
        Duration timeout = timeout(topic);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            Map<TopicPartition, long[]> ranges = new HashMap<>();
            for (TopicPartition partition : partitions) {
                long first = begin.get(partition);
                long last = end.get(partition);
                ranges.put(partition, topic.from() == ExperimentPlan.From.EARLIEST
                        ? new long[]{first, Math.min(last, first + topic.maxRecords())}
                        : new long[]{Math.max(first, last - topic.maxRecords()), last});
            }
            List<ConsumerRecord<byte[], byte[]>> records = fetch(consumer, topic, ranges, null);
            if (records.isEmpty()) {
                throw new ReplayException("the Kafka topic " + topic.topic() + " at " + topic.bootstrapServers()
                        + " has no records; run requests through a router that logs to it first");
            }
            int keep = Math.min(records.size(), topic.maxRecords());
            records = topic.from() == ExperimentPlan.From.EARLIEST ? records.subList(0, keep)
                    : records.subList(records.size() - keep, records.size());
            return result(topic, records);
        } catch (KafkaException e) {
            throw failure(topic, e);
        }
    }

    /**
     * Reads the records at {@code positions} again, for a resumed sweep.
     *
     * @throws ReplayException when some of them are no longer in the topic
     */
    static Read readAgain(ExperimentPlan.KafkaTopic topic, List<RecordPosition> positions) {
        Duration timeout = timeout(topic);
        Map<TopicPartition, long[]> ranges = new HashMap<>();
        for (RecordPosition position : positions) {
            ranges.merge(new TopicPartition(topic.topic(), position.partition()),
                    new long[]{position.offset(), position.offset() + 1},
                    (a, b) -> new long[]{Math.min(a[0], b[0]), Math.max(a[1], b[1])});
        }
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
            partitions(consumer, topic);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(ranges.keySet(), timeout);
            Map<TopicPartition, Long> end = consumer.endOffsets(ranges.keySet(), timeout);
            for (Map.Entry<TopicPartition, long[]> range : ranges.entrySet()) {
                if (begin.get(range.getKey()) > range.getValue()[0]) {
                    throw new ReplayException("the records this sweep replays are no longer in " + range.getKey()
                            + " (it starts at offset " + begin.get(range.getKey()) + ", the sweep read from offset "
                            + range.getValue()[0] + "); start a new --out directory to replay the records there now");
                }
                range.getValue()[1] = Math.min(range.getValue()[1], end.get(range.getKey()));
            }
            List<ConsumerRecord<byte[], byte[]>> records = fetch(consumer, topic, ranges, new HashSet<>(positions));
            if (records.size() != positions.size()) {
                throw new ReplayException("found " + records.size() + " of the " + positions.size()
                        + " records this sweep replays in the Kafka topic " + topic.topic()
                        + "; start a new --out directory to replay the records there now");
            }
            return result(topic, records);
        } catch (KafkaException e) {
            throw failure(topic, e);
        }
    }

    private static Duration timeout(ExperimentPlan.KafkaTopic topic) {
        String millis = topic.properties().get(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        try {
            return millis == null ? DEFAULT_TIMEOUT : Duration.ofMillis(Long.parseLong(millis.strip()));
        } catch (NumberFormatException e) {
            throw new ReplayException("workload.replay.kafka.properties." + ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG
                    + " must be a number of milliseconds, got \"" + millis + "\"");
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(ExperimentPlan.KafkaTopic topic) {
        Map<String, Object> properties = new HashMap<>(topic.properties());
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, topic.bootstrapServers());
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A misspelt topic must not be created empty by the broker.
        properties.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        properties.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "sparsemesh-experiment-replay");
        try {
            return new KafkaConsumer<>(properties);
        } catch (KafkaException e) {
            throw new ReplayException("invalid Kafka consumer settings in workload.replay.kafka: " + e.getMessage(), e);
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer, ExperimentPlan.KafkaTopic topic) {
        Duration timeout = timeout(topic);
        List<PartitionInfo> infos = consumer.partitionsFor(topic.topic(), timeout);
        if (infos == null || infos.isEmpty()) {
            throw new ReplayException("the Kafka topic " + topic.topic() + " was not found at " + topic.bootstrapServers()
                    + "; check workload.replay.kafka.topic");
        }
        return infos.stream().map(info -> new TopicPartition(info.topic(), info.partition()))
                .sorted(Comparator.comparingInt(TopicPartition::partition)).toList();
    }

    /**
     * Polls each partition from {@code range[0]} up to {@code range[1]} (exclusive) and returns the
     * records in timestamp order, only those at {@code wanted} positions unless that is null.
     */
    private static List<ConsumerRecord<byte[], byte[]>> fetch(KafkaConsumer<byte[], byte[]> consumer,
                                                             ExperimentPlan.KafkaTopic topic,
                                                             Map<TopicPartition, long[]> ranges,
                                                             Set<RecordPosition> wanted) {
        Duration timeout = timeout(topic);
        Map<TopicPartition, long[]> remaining = new HashMap<>(ranges);
        remaining.values().removeIf(range -> range[0] >= range[1]);
        Set<TopicPartition> assigned = Set.copyOf(remaining.keySet());
        consumer.assign(assigned);
        remaining.forEach((partition, range) -> consumer.seek(partition, range[0]));

        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        long idleDeadline = System.nanoTime() + timeout.toNanos();
        while (!remaining.isEmpty()) {
            int polled = 0;
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                polled++;
                long[] range = ranges.get(new TopicPartition(record.topic(), record.partition()));
                boolean inRange = record.offset() >= range[0] && record.offset() < range[1];
                if (inRange && (wanted == null || wanted.contains(new RecordPosition(record.partition(), record.offset())))) {
                    records.add(record);
                }
            }
            remaining.entrySet().removeIf(entry -> consumer.position(entry.getKey(), timeout) >= entry.getValue()[1]);
            consumer.pause(assigned.stream().filter(p -> !remaining.containsKey(p)).toList());
            if (polled > 0) {
                idleDeadline = System.nanoTime() + timeout.toNanos();
            } else if (System.nanoTime() > idleDeadline) {
                throw new ReplayException("timed out reading the Kafka topic " + topic.topic() + " at "
                        + topic.bootstrapServers() + ": no record arrived for " + timeout.toSeconds() + " s while "
                        + remaining.keySet() + " had more; check the brokers and retry");
            }
        }
        records.sort(Comparator.comparingLong((ConsumerRecord<byte[], byte[]> r) -> r.timestamp())
                .thenComparingInt(ConsumerRecord::partition).thenComparingLong(ConsumerRecord::offset));
        return records;
    }

    private static Read result(ExperimentPlan.KafkaTopic topic, List<ConsumerRecord<byte[], byte[]>> records) {
        List<RecordedValue> values = new ArrayList<>();
        List<RecordPosition> positions = new ArrayList<>();
        Map<Integer, long[]> offsets = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            String origin = record.topic() + " partition " + record.partition() + " offset " + record.offset();
            values.add(new RecordedValue(origin, record.value() == null ? new byte[0] : record.value()));
            positions.add(new RecordPosition(record.partition(), record.offset()));
            offsets.merge(record.partition(), new long[]{record.offset(), record.offset()},
                    (a, b) -> new long[]{Math.min(a[0], b[0]), Math.max(a[1], b[1])});
        }
        String description = "Kafka topic " + topic.topic() + " at " + topic.bootstrapServers() + ", "
                + offsets.entrySet().stream().map(e -> "partition " + e.getKey() + " offsets " + e.getValue()[0] + "–"
                + e.getValue()[1]).collect(Collectors.joining(", "));
        log.info("Read {} records for the replay from {}", records.size(), description);
        return new Read(values, positions, description);
    }

    private static ReplayException failure(ExperimentPlan.KafkaTopic topic, KafkaException e) {
        Duration timeout = timeout(topic);
        if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            return new ReplayException("failed to read the Kafka topic " + topic.topic() + ": no broker at "
                    + topic.bootstrapServers() + " answered within " + timeout.toSeconds() + " s; check that one runs"
                    + " there and that workload.replay.kafka.bootstrap_servers is right", e);
        }
        return new ReplayException("failed to read the Kafka topic " + topic.topic() + " at " + topic.bootstrapServers()
                + ": " + e.getMessage(), e);
    }
}
