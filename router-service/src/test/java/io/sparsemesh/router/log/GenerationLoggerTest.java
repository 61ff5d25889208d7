package io.sparsemesh.router.log;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.KafkaLogSettings;
import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.SpoolingKafkaLog;
import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.GenerationEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The generation logger between a generation's events and the real Kafka log, without content. */
class GenerationLoggerTest {

    static final Instant NOW = Instant.parse("2026-03-04T05:06:07Z");

    @TempDir
    Path spool;

    @Test
    void finishedGenerationIsLoggedWithoutText() {
        String requestId = "finished-" + UUID.randomUUID();
        List<String> seen = new ArrayList<>();
        try (SpoolingKafkaLog kafka = open()) {
            GenerationEvents events = logger(kafka).decorate(command(requestId), new RecordedEvents(seen));
            events.started(new int[5]);
            events.token(11, "Once");
            events.token(12, " upon");
            events.token(13, "");
            events.finished(FinishReason.LENGTH, new GenerationStats(5, 3, 40_000_000, 10_000_000), " a");
        }

        assertEquals(List.of("started 5", "token 11 Once", "token 12  upon", "token 13 ", "finished length  a"), seen,
                "every event reaches the wrapped events");
        GenerationRecord record = read(requestId);
        assertEquals(NOW, record.timestamp());
        assertEquals("tiny", record.model());
        assertEquals(5, record.promptTokens());
        assertEquals(3, record.completionTokens());
        assertEquals(40.0, record.timeToFirstTokenMs());
        assertEquals(5.0, record.timePerOutputTokenMs(), "10 ms over the 2 tokens after the first");
        assertEquals("length", record.finishReason());
        assertNull(record.prompt(), "content logging is off");
        assertNull(record.messages());
        assertNull(record.completion());
        assertNull(record.error());
    }

    @Test
    void failedGenerationIsLoggedAsError() {
        String requestId = "failed-" + UUID.randomUUID();
        List<String> seen = new ArrayList<>();
        try (SpoolingKafkaLog kafka = open()) {
            GenerationEvents events = logger(kafka).decorate(command(requestId), new RecordedEvents(seen));
            events.started(new int[7]);
            events.token(1, "x");
            events.failed(new IllegalStateException("expert shard 2 is unavailable"));
        }

        assertEquals("failed expert shard 2 is unavailable", seen.getLast());
        GenerationRecord record = read(requestId);
        assertEquals("error", record.finishReason());
        assertEquals("expert shard 2 is unavailable", record.error());
        assertEquals(7, record.promptTokens());
        assertEquals(1, record.completionTokens());
        assertNull(record.timeToFirstTokenMs());
        assertNull(record.timePerOutputTokenMs());
    }

    @Test
    void singleTokenHasNoTimePerToken() {
        String requestId = "single-" + UUID.randomUUID();
        try (SpoolingKafkaLog kafka = open()) {
            GenerationEvents events = logger(kafka).decorate(command(requestId), new RecordedEvents(new ArrayList<>()));
            events.started(new int[2]);
            events.token(9, "!");
            events.finished(FinishReason.STOP, new GenerationStats(2, 1, 3_000_000, 0), "");
        }

        GenerationRecord record = read(requestId);
        assertEquals("stop", record.finishReason());
        assertEquals(3.0, record.timeToFirstTokenMs());
        assertNull(record.timePerOutputTokenMs());
    }

    private SpoolingKafkaLog open() {
        return SpoolingKafkaLog.open(KafkaLogSettings.defaults(TestKafka.broker().bootstrapServers(), "router-test", spool),
                new SimpleMeterRegistry());
    }

    private static GenerationLogger logger(SpoolingKafkaLog kafka) {
        return new GenerationLogger(kafka, "tiny", false, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static GenerationCommand command(String requestId) {
        return new GenerationCommand(requestId, "tiny", "Once upon a time", null, null,
                new SamplingParams(0, 0, 1, 1, 16, Set.of(), List.of(), false));
    }

    private static GenerationRecord read(String requestId) {
        byte[] value = TestKafka.readValue(GenerationRecord.TOPIC, requestId);
        assertNotNull(value, "a record keyed " + requestId);
        return LogRecordJson.fromJson(value, GenerationRecord.class);
    }

    /** Writes each event it receives as a line of text. */
    private record RecordedEvents(List<String> lines) implements GenerationEvents {
        @Override
        public void started(int[] promptIds) {
            lines.add("started " + promptIds.length);
        }

        @Override
        public void token(int id, String text) {
            lines.add("token " + id + " " + text);
        }

        @Override
        public void finished(FinishReason reason, GenerationStats stats, String text) {
            lines.add("finished " + reason.openAiName() + " " + text);
        }

        @Override
        public void failed(Throwable error) {
            lines.add("failed " + error.getMessage());
        }
    }
}
