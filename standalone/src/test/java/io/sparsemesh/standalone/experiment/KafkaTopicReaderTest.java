package io.sparsemesh.standalone.experiment;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.KafkaLogSettings;
import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.SpoolingKafkaLog;
import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Records written to {@code sparsemesh.generations} on an embedded KRaft broker by the project's
 * own Kafka log, read back for a replay.
 */
class KafkaTopicReaderTest {

    private static EmbeddedKafkaBroker broker;

    @TempDir
    static Path spool;

    @BeforeAll
    static void publishRecords() throws Exception {
        broker = EmbeddedKafkaBroker.startTemporary();
        publish(broker, spool.resolve("spool"), ReplayWorkloadTest.recordsOfEachKind());
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    /** Publishes {@code records} with a {@link SpoolingKafkaLog} and waits until the broker acknowledged them all. */
    static void publish(EmbeddedKafkaBroker broker, Path spoolDirectory, List<GenerationRecord> records)
            throws InterruptedException {
        try (SpoolingKafkaLog log = SpoolingKafkaLog.open(
                KafkaLogSettings.defaults(broker.bootstrapServers(), "replay-test", spoolDirectory), new SimpleMeterRegistry())) {
            records.forEach(log::publish);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (log.pendingRecords() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, log.pendingRecords(), "records the broker has not acknowledged");
        }
    }

    static ExperimentPlan.KafkaTopic topic(String servers, int maxRecords, ExperimentPlan.From from) {
        return new ExperimentPlan.KafkaTopic(servers, GenerationRecord.TOPIC, maxRecords, from, Map.of());
    }

    private static List<String> requestIds(KafkaTopicReader.Read read) {
        return read.values().stream()
                .map(value -> LogRecordJson.fromJson(value.json(), GenerationRecord.class).requestId()).toList();
    }

    @Test
    void earliestReadsOldestRecords() {
        KafkaTopicReader.Read read = KafkaTopicReader.read(topic(broker.bootstrapServers(), 3, ExperimentPlan.From.EARLIEST));

        assertEquals(List.of("text", "chat", "no-text"), requestIds(read));
        assertEquals(List.of(new KafkaTopicReader.RecordPosition(0, 0), new KafkaTopicReader.RecordPosition(0, 1),
                new KafkaTopicReader.RecordPosition(0, 2)), read.positions());
        assertEquals("sparsemesh.generations partition 0 offset 1", read.values().get(1).origin());
        assertTrue(read.description().contains("partition 0 offsets 0–2"), read.description());
    }

    @Test
    void latestReadsNewestRecords() {
        KafkaTopicReader.Read read = KafkaTopicReader.read(topic(broker.bootstrapServers(), 2, ExperimentPlan.From.LATEST));

        assertEquals(List.of("v2", "long"), requestIds(read));
    }

    @Test
    void allRecordsBuildRequests() {
        KafkaTopicReader.Read read = KafkaTopicReader.read(topic(broker.bootstrapServers(), 100, ExperimentPlan.From.EARLIEST));

        assertEquals(6, read.values().size(), "max_records above the topic's size reads every record");
        ReplayWorkload workload = ReplayWorkload.build(read.values(), read.description(), false,
                ExperimentPlan.WithoutPrompt.LENGTHS, ReplayWorkloadTest.encoder(), ReplayWorkloadTest.corpus(),
                ReplayWorkloadTest.CONTEXT);
        ReplayWorkloadTest.assertRequestsOfEachKind(workload.requests(4));
        assertEquals(1, workload.summary().skippedUnknownVersion());
        assertEquals(1, workload.summary().skippedNoCompletion());
    }

    /** A resumed sweep reads the records of its first run, by their saved positions. */
    @Test
    void savedPositionsReadAgain() {
        List<KafkaTopicReader.RecordPosition> positions = List.of(new KafkaTopicReader.RecordPosition(0, 1),
                new KafkaTopicReader.RecordPosition(0, 4));

        KafkaTopicReader.Read read = KafkaTopicReader.readAgain(topic(broker.bootstrapServers(), 6, ExperimentPlan.From.EARLIEST),
                positions);

        assertEquals(List.of("chat", "v2"), requestIds(read));
        assertEquals(positions, read.positions());
    }

    @Test
    void missingPositionNamed() {
        List<KafkaTopicReader.RecordPosition> positions = List.of(new KafkaTopicReader.RecordPosition(0, 5),
                new KafkaTopicReader.RecordPosition(0, 60));

        ReplayException error = assertThrows(ReplayException.class, () -> KafkaTopicReader.readAgain(
                topic(broker.bootstrapServers(), 6, ExperimentPlan.From.EARLIEST), positions));

        assertTrue(error.getMessage().contains("found 1 of the 2 records"), error.getMessage());
    }

    @Test
    void unknownTopicNamed() {
        ExperimentPlan.KafkaTopic topic = new ExperimentPlan.KafkaTopic(broker.bootstrapServers(), "sparsemesh.generationz",
                10, ExperimentPlan.From.EARLIEST, Map.of());

        ReplayException error = assertThrows(ReplayException.class, () -> KafkaTopicReader.read(topic));

        assertTrue(error.getMessage().contains("sparsemesh.generationz was not found at " + broker.bootstrapServers()),
                error.getMessage());
    }

    @Test
    void unreachableBrokerNamed() throws Exception {
        int closedPort;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        ExperimentPlan.KafkaTopic topic = new ExperimentPlan.KafkaTopic("127.0.0.1:" + closedPort, GenerationRecord.TOPIC,
                10, ExperimentPlan.From.EARLIEST, Map.of("default.api.timeout.ms", "2000"));

        ReplayException error = assertThrows(ReplayException.class, () -> KafkaTopicReader.read(topic));

        assertTrue(error.getMessage().contains("no broker at 127.0.0.1:" + closedPort + " answered within 2 s"),
                error.getMessage());
    }
}
