package io.sparsemesh.log;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The spooling producer against a real KRaft broker in this JVM. */
class SpoolingKafkaLogTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path spoolDirectory;

    @Test
    void deliversRecordsInOrder() {
        String run = "deliver-" + UUID.randomUUID();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (SpoolingKafkaLog log = SpoolingKafkaLog.open(settings(TestKafka.broker().bootstrapServers()), registry)) {
            List<String> ids = publish(log, run, 50);
            awaitTrue(() -> log.pendingRecords() == 0, "all records acknowledged");

            assertEquals(ids, readIds(run, ids.size()));
            assertTrue(log.brokerConnected());
            assertEquals(50, registry.get("sparsemesh.log.records.sent").tag("topic", RequestRecord.TOPIC).counter().count());
        }
    }

    @Test
    void closeDeliversPendingRecords() {
        String run = "close-" + UUID.randomUUID();
        List<String> ids;
        try (SpoolingKafkaLog log = SpoolingKafkaLog.open(settings(TestKafka.broker().bootstrapServers()),
                new SimpleMeterRegistry())) {
            ids = publish(log, run, 20);
        }

        assertEquals(ids, readIds(run, ids.size()), "records published just before close are delivered");
    }

    @Test
    void outageRecordsArriveInOrder() {
        String run = "outage-" + UUID.randomUUID();
        EmbeddedKafkaBroker broker = TestKafka.broker();
        try (SpoolingKafkaLog log = SpoolingKafkaLog.open(settings(broker.bootstrapServers()), new SimpleMeterRegistry())) {
            List<String> ids = new ArrayList<>(publish(log, run, 5));
            awaitTrue(() -> log.pendingRecords() == 0 && log.brokerConnected(), "first records acknowledged");

            broker.stop();
            try {
                ids.addAll(publish(log, run, 200, 5));
                awaitTrue(() -> !log.brokerConnected(), "the log notices the broker is gone");
                assertTrue(log.pendingRecords() > 0, "records wait in the spool");
            } finally {
                broker.start();
            }
            awaitTrue(() -> log.pendingRecords() == 0, "spool flushed after the broker returned");

            List<String> received = readIds(run, ids.size());
            assertEquals(ids, List.copyOf(new LinkedHashSet<>(received)), "every record, in publication order");
        }
    }

    @Test
    void spoolSurvivesProcessRestart() {
        String run = "restart-" + UUID.randomUUID();
        List<String> ids;
        try (SpoolingKafkaLog unreachable = SpoolingKafkaLog.open(settings(deadAddress()), new SimpleMeterRegistry())) {
            ids = publish(unreachable, run, 30);
            awaitTrue(() -> unreachable.pendingRecords() == 30 && !unreachable.brokerConnected(),
                    "records spooled while no broker answers");
        }

        try (SpoolingKafkaLog restarted = SpoolingKafkaLog.open(settings(TestKafka.broker().bootstrapServers()),
                new SimpleMeterRegistry())) {
            awaitTrue(() -> restarted.pendingRecords() == 0, "the restarted log sends what the first one spooled");
            assertEquals(ids, List.copyOf(new LinkedHashSet<>(readIds(run, ids.size()))));
        }
    }

    @Test
    void spoolOverflowIsCountedAsDropped() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaLogSettings small = settings(deadAddress()).withSpoolMaxBytes(64 * 1024);
        try (SpoolingKafkaLog log = SpoolingKafkaLog.open(small, registry)) {
            String longPath = "/v1/" + "x".repeat(1000);
            int published = 200;
            for (int i = 0; i < published; i++) {
                log.publish(new RequestRecord("overflow-" + i, Instant.now(), "POST", longPath, "openai", "k", 200,
                        1.0, 10, 10));
            }
            awaitTrue(() -> spooled(registry) + dropped(registry, "spool_full") == published,
                    "every record is either spooled or counted as dropped");

            assertTrue(dropped(registry, "spool_full") > 0, "a 64 KiB spool cannot hold 200 records of 1 KB");
            assertTrue(spooled(registry) > 0);
            assertFalse(log.brokerConnected());
        }
    }

    @Test
    void secondLogOnSameSpoolIsRejected() {
        try (SpoolingKafkaLog first = SpoolingKafkaLog.open(settings(deadAddress()), new SimpleMeterRegistry())) {
            IllegalStateException error = assertThrows(IllegalStateException.class,
                    () -> SpoolingKafkaLog.open(settings(deadAddress()), new SimpleMeterRegistry()));
            assertTrue(error.getMessage().contains("in use"), error.getMessage());
        }
    }

    @Test
    void fixedProducerPropertiesCannotBeOverridden() {
        KafkaLogSettings settings = settings(deadAddress());
        KafkaLogSettings withAcks = new KafkaLogSettings(settings.bootstrapServers(), settings.clientId(),
                settings.spoolDirectory(), settings.spoolMaxBytes(), settings.queueCapacity(),
                settings.deliveryTimeout(), settings.maxReconnectBackoff(), java.util.Map.of("acks", "1"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> SpoolingKafkaLog.open(withAcks, new SimpleMeterRegistry()));
        assertTrue(error.getMessage().contains("acks"), error.getMessage());
    }

    private KafkaLogSettings settings(String bootstrapServers) {
        return KafkaLogSettings.defaults(bootstrapServers, "mesh-log-test", spoolDirectory)
                .withDeliveryTimeout(Duration.ofSeconds(2), Duration.ofMillis(500));
    }

    private static List<String> publish(SpoolingKafkaLog log, String run, int count) {
        return publish(log, run, count, 0);
    }

    private static List<String> publish(SpoolingKafkaLog log, String run, int count, int firstIndex) {
        List<String> ids = new ArrayList<>();
        for (int i = firstIndex; i < firstIndex + count; i++) {
            String id = run + "-" + i;
            log.publish(new RequestRecord(id, Instant.now(), "POST", "/v1/completions", "openai", "test-key", 200,
                    i * 0.5, 100, 200));
            ids.add(id);
        }
        return ids;
    }

    private static List<String> readIds(String run, int count) {
        return TestKafka.read(RequestRecord.TOPIC, r -> r.key().startsWith(run + "-"), count, WAIT).stream()
                .map(value -> LogRecordJson.fromJson(value, RequestRecord.class).requestId())
                .toList();
    }

    private static double spooled(SimpleMeterRegistry registry) {
        var gauge = registry.find("sparsemesh.log.spool.records").tag("topic", RequestRecord.TOPIC).gauge();
        return gauge == null ? 0 : gauge.value();
    }

    private static double dropped(SimpleMeterRegistry registry, String reason) {
        Counter counter = registry.find("sparsemesh.log.records.dropped").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    /** Returns a loopback address where nothing listens. */
    private static String deadAddress() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "127.0.0.1:" + socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String description) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("gave up waiting after " + WAIT + ": " + description);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting: " + description);
            }
        }
    }
}
