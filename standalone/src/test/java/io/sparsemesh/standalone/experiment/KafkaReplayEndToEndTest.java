package io.sparsemesh.standalone.experiment;

import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep that replays {@code sparsemesh.generations} records from a live embedded KRaft broker
 * against a one-shard mesh of glm5-mini-gutenberg started as processes. The project's own Kafka log
 * writes the records. The mesh's router logs its generations to the same topic, so the test reads
 * back what the router served: one record per request sent, with the replayed prompt and output
 * lengths. Needs the services' executable jars, like {@link ExperimentEndToEndTest}.
 */
class KafkaReplayEndToEndTest {

    @TempDir
    Path out;

    @Test
    void routerServesReplayedRecords() throws Exception {
        Path home = TestData.root();
        Assumptions.assumeTrue(Files.isRegularFile(home.resolve("expert-service/target/expert-service-0.1.0-SNAPSHOT-exec.jar")),
                "the services' executable jars are not built");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startTemporary()) {
            List<GenerationRecord> recorded = ReplayWorkloadTest.recordsOfEachKind();
            KafkaTopicReaderTest.publish(broker, out.resolve("producer-spool"), recorded);
            String planText = """
                    name: kafka replay
                    model: models/glm5-mini-gutenberg
                    repetitions: 1
                    warmup_requests: 1
                    requests: 4
                    baseline: false
                    workload:
                      replay:
                        kafka:
                          bootstrap_servers: %s
                          max_records: 10
                    axes:
                      shards: [1]
                      concurrency: [2]
                    """.formatted(broker.bootstrapServers());
            Path planFile = out.resolve("plan.yaml");
            Files.writeString(planFile, planText);
            ExperimentPlan plan = new PlanParser(home).parse(planFile);
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            // The router logs each generation it serves to the topic the sweep replays.
            Map<String, String> routerLog = Map.of(
                    "sparsemesh.log.kafka.bootstrap-servers", broker.bootstrapServers(),
                    "sparsemesh.log.spool.directory", out.resolve("router-spool").toString());
            ExperimentRunner runner = new ExperimentRunner(plan, planText, home, out.resolve("results"),
                    new PrintStream(console, true, StandardCharsets.UTF_8), routerLog);

            assertEquals(1, runner.run(), console.toString(StandardCharsets.UTF_8));

            PointResult result = new ResultStore(out.resolve("results")).load().getFirst();
            assertEquals(0, result.errors(), result.firstError());
            List<String> expected = new ArrayList<>();
            ReplayWorkload replay = ReplayWorkload.build(KafkaTopicReader.read(KafkaTopicReaderTest.topic(
                            broker.bootstrapServers(), recorded.size(), ExperimentPlan.From.EARLIEST)).values(), "topic", false,
                    ExperimentPlan.WithoutPrompt.LENGTHS, ReplayWorkloadTest.encoder(), ReplayWorkloadTest.corpus(),
                    ReplayWorkloadTest.CONTEXT);
            for (RequestShape shape : replay.requests(1)) {
                expected.add(shape.promptIds().length + "+" + shape.maxTokens());
            }
            for (RequestShape shape : replay.requests(4)) {
                expected.add(shape.promptIds().length + "+" + shape.maxTokens());
            }
            assertEquals(sorted(expected), sorted(served(broker, expected.size())),
                    "prompt+output tokens of each request, warm-up included");

            String printed = console.toString(StandardCharsets.UTF_8);
            assertTrue(printed.contains("Replaying 4 of 6 records"), printed);
            String report = Files.readString(out.resolve("results/report.md"));
            assertTrue(report.contains("| replayed with their prompt | 3 |"), report);
            assertTrue(report.contains("| skipped: unknown schema_version | 1 |"), report);
            assertTrue(report.contains("| prompts cut to the model's context | 1 |"), report);
            ExperimentRunner.ReplayPositions saved = new ResultStore(out.resolve("results"))
                    .readJson(ExperimentRunner.REPLAY_POSITIONS, ExperimentRunner.ReplayPositions.class);
            assertEquals(6, saved.positions().size(), "positions of every record read, for a resumed sweep");

            double[][] layers = result.layerExpertTokens();
            assertEquals(4, layers.length);
            assertEquals(0, java.util.Arrays.stream(layers[0]).sum(), "layer 0 of glm5-mini is dense");
            assertTrue(java.util.Arrays.stream(layers[1]).sum() > 0, "tokens routed on layer 1");
            assertTrue(Files.isRegularFile(out.resolve("results/expert-load.png")), "heatmap from the router's counters");
        }
    }

    /** Reads the router's generation records (model id {@value Deployment#MODEL_ID}) until {@code count} arrived. */
    private static List<String> served(EmbeddedKafkaBroker broker, int count) throws InterruptedException {
        List<String> served = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (served.size() < count && System.nanoTime() < deadline) {
            served.clear();
            KafkaTopicReader.Read read = KafkaTopicReader.read(KafkaTopicReaderTest.topic(broker.bootstrapServers(), 1000,
                    ExperimentPlan.From.EARLIEST));
            for (RecordedValue value : read.values()) {
                GenerationRecord record = LogRecordJson.fromJson(value.json(), GenerationRecord.class);
                if (record.model().equals(Deployment.MODEL_ID)) {
                    assertEquals("length", record.finishReason(), record.requestId());
                    served.add(record.promptTokens() + "+" + record.completionTokens());
                }
            }
            if (served.size() < count) {
                Thread.sleep(500);
            }
        }
        return served;
    }

    private static List<String> sorted(List<String> values) {
        return values.stream().sorted().toList();
    }
}
