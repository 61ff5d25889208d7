package io.sparsemesh.router.log;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.config.HuggingFaceConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.log.ExpertLoadRecord;
import io.sparsemesh.log.KafkaLogSettings;
import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.SpoolingKafkaLog;
import io.sparsemesh.router.RouterMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Expert-load records from the router's routing counts for deepseek_v3_tiny (4 layers, the first
 * dense, 8 routed experts, 2 per token), published to the embedded broker.
 */
class ExpertLoadPublisherTest {

    @TempDir
    Path spool;

    @Test
    void routedTokensArePublishedPerLayer() {
        ModelConfig config = HuggingFaceConfigReader.read(TestKafka.repositoryRoot().resolve("testdata/hf-tiny/deepseek_v3_tiny"));
        RouterMetrics metrics = new RouterMetrics(new SimpleMeterRegistry(), config, new ShardLayout(2));
        String model = "deepseek_v3_tiny-" + UUID.randomUUID();
        MutableClock clock = new MutableClock(Instant.parse("2026-05-06T07:00:00Z"));

        try (SpoolingKafkaLog kafka = SpoolingKafkaLog.open(
                KafkaLogSettings.defaults(TestKafka.broker().bootstrapServers(), "router-test", spool), new SimpleMeterRegistry())) {
            ExpertLoadPublisher publisher = new ExpertLoadPublisher(kafka, metrics, model, config.numLayers(), clock);
            // Three rows on layer 1 and one on layer 3; layers 0 (dense) and 2 route nothing.
            metrics.onRouted(1, new ExpertRouting(3, 2, new int[] {0, 1, 1, 2, 7, 1}, new float[6]));
            metrics.onRouted(3, new ExpertRouting(1, 2, new int[] {4, 5}, new float[2]));
            clock.advance(Duration.ofSeconds(10));

            assertEquals(2, publisher.publishInterval());
            clock.advance(Duration.ofSeconds(10));
            assertEquals(0, publisher.publishInterval(), "an idle interval publishes nothing");
            metrics.onRouted(2, new ExpertRouting(1, 2, new int[] {3, 6}, new float[2]));
            clock.advance(Duration.ofSeconds(10));
            assertEquals(1, publisher.publishInterval());
        }

        List<ExpertLoadRecord> records = new ArrayList<>();
        for (byte[] value : TestKafka.readValues(ExpertLoadRecord.TOPIC, model, 3)) {
            records.add(LogRecordJson.fromJson(value, ExpertLoadRecord.class));
        }
        assertEquals(3, records.size());
        assertEquals(new ExpertLoadRecord(model, Instant.parse("2026-05-06T07:00:00Z"), Instant.parse("2026-05-06T07:00:10Z"),
                1, new long[] {1, 3, 1, 0, 0, 0, 0, 1}), records.get(0));
        assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 0, 0}, records.get(1).tokensPerExpert());
        assertEquals(3, records.get(1).layer());
        assertEquals(2, records.get(2).layer());
        assertEquals(Instant.parse("2026-05-06T07:00:20Z"), records.get(2).intervalStart(),
                "the idle interval still moves the start");
        assertEquals(Instant.parse("2026-05-06T07:00:30Z"), records.get(2).intervalEnd());
    }

    /** A clock the test moves forward by hand. */
    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException("the test clock is UTC only");
        }
    }
}
