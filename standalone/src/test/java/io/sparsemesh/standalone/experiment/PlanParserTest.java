package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanParserTest {

    @TempDir
    Path home;

    private Path write(String yaml) throws IOException {
        Files.writeString(home.resolve("model.gguf"), "not read by the parser");
        Files.createDirectories(home.resolve("testdata/corpus/tinyshakespeare"));
        Files.writeString(home.resolve("testdata/corpus/tinyshakespeare/input.txt"), "First Citizen: speak, speak.");
        Path plan = home.resolve("plan.yaml");
        Files.writeString(plan, yaml);
        return plan;
    }

    private String error(String yaml) throws IOException {
        Path plan = write(yaml);
        return assertThrows(PlanException.class, () -> new PlanParser(home).parse(plan)).getMessage();
    }

    @Test
    void fullPlanParses() throws IOException {
        ExperimentPlan plan = new PlanParser(home).parse(write("""
                name: sweep
                model: model.gguf
                repetitions: 2
                requests: 16
                axes:
                  shards: [1, 2, 4]
                  replicas: [1, 2]
                  attention_replicas: 2
                  concurrency: [1, 8, 32]
                  wire_dtype: [bf16, f32]
                  index_full_every: [model, 2, 4]
                  prompt_tokens: 24
                """));
        assertEquals("sweep", plan.name());
        assertEquals(2, plan.repetitions());
        assertEquals(4, plan.warmupRequests());
        assertEquals(List.of(1, 2, 4), plan.axes().shards());
        assertEquals(List.of(2), plan.axes().attentionReplicas());
        assertEquals(List.of(1.0, 8.0, 32.0), plan.axes().load());
        assertEquals(Arrays.asList(null, 2, 4), plan.axes().indexFullEvery());
        assertEquals(List.of(24), plan.axes().promptTokens());
        assertEquals(ExperimentPlan.Arrival.CLOSED, plan.workload().arrival());
        assertTrue(plan.baseline());
        // 3 shards × 2 replicas × 2 dtypes × 3 index variants × 3 loads, plus one engine point per load
        assertEquals(3 * 2 * 2 * 3 * 3 + 3, Sweep.points(plan).size());
    }

    @Test
    void duplicateKeyIsRejected() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                requests: 8
                axes:
                  concurrency: 1
                """);
        assertTrue(message.contains("not valid YAML"), message);
        assertTrue(message.contains("requests"), message);
    }

    @Test
    void wrongTypeNamesField() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  shards: [1, two]
                  concurrency: 1
                """);
        assertTrue(message.contains("axes.shards[1]"), message);
        assertTrue(message.contains("plan.yaml"), message);
    }

    @Test
    void unknownFieldNamed() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  concurency: [1]
                """);
        assertTrue(message.contains("axes.concurency is not a known field"), message);
    }

    @Test
    void missingModelFileNamed() throws IOException {
        String message = error("""
                name: x
                model: missing.gguf
                requests: 4
                axes:
                  concurrency: 1
                """);
        assertTrue(message.contains("model names"), message);
        assertTrue(message.contains("missing.gguf"), message);
    }

    @Test
    void pingPongAxisSwept() throws IOException {
        ExperimentPlan plan = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  shards: [1, 2]
                  concurrency: 1
                  ping_pong: [false, true]
                """));
        assertEquals(List.of(false, true), plan.axes().pingPong());
        List<SweepPoint> points = Sweep.points(plan);
        // one engine baseline, then 2 shard counts × 2 ping-pong settings
        assertEquals(1 + 2 * 2, points.size());
        assertFalse(points.getFirst().pingPong(), "the engine baseline runs without ping-pong");
        assertEquals(2, points.stream().filter(SweepPoint::pingPong).count());
        assertTrue(points.stream().filter(SweepPoint::pingPong).allMatch(p -> p.id().contains("-pingpong")));
        assertTrue(points.stream().filter(p -> !p.pingPong()).noneMatch(p -> p.id().contains("pingpong")),
                "points without ping-pong keep the names of sweeps from before the axis");
    }

    @Test
    void pingPongMustBeBoolean() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  concurrency: 1
                  ping_pong: [false, on-ish]
                """);
        assertTrue(message.contains("axes.ping_pong[1] must be true or false"), message);
    }

    @Test
    void kafkaReplayParses() throws IOException {
        ExperimentPlan plan = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 12
                workload:
                  replay:
                    kafka:
                      bootstrap_servers: 127.0.0.1:9092, [::1]:9093
                      from: latest
                      properties:
                        security.protocol: PLAINTEXT
                        fetch.max.wait.ms: 100
                    without_prompt: skip
                axes:
                  concurrency: 1
                """));
        ExperimentPlan.Replay replay = plan.workload().replay();
        assertNull(replay.file());
        assertEquals(ExperimentPlan.WithoutPrompt.SKIP, replay.withoutPrompt());
        assertEquals("127.0.0.1:9092, [::1]:9093", replay.kafka().bootstrapServers());
        assertEquals("sparsemesh.generations", replay.kafka().topic());
        assertEquals(12, replay.kafka().maxRecords(), "max_records defaults to the plan's requests");
        assertEquals(ExperimentPlan.From.LATEST, replay.kafka().from());
        assertEquals("PLAINTEXT", replay.kafka().properties().get("security.protocol"));
        assertEquals("100", replay.kafka().properties().get("fetch.max.wait.ms"));
    }

    @Test
    void replayFileFormsParse() throws IOException {
        Files.writeString(home.resolve("generations.jsonl"), "{}\n");
        ExperimentPlan plain = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 4
                workload:
                  replay: generations.jsonl
                axes:
                  concurrency: 1
                """));
        assertEquals(home.resolve("generations.jsonl"), plain.workload().replay().file());
        assertEquals(ExperimentPlan.WithoutPrompt.LENGTHS, plain.workload().replay().withoutPrompt());

        ExperimentPlan mapped = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 4
                workload:
                  replay:
                    file: generations.jsonl
                    without_prompt: fail
                axes:
                  concurrency: 1
                """));
        assertEquals(home.resolve("generations.jsonl"), mapped.workload().replay().file());
        assertNull(mapped.workload().replay().kafka());
        assertEquals(ExperimentPlan.WithoutPrompt.FAIL, mapped.workload().replay().withoutPrompt());
    }

    /** Each invalid replay setting and the field its error names. */
    @Test
    void invalidReplayNamesField() throws IOException {
        String[][] cases = {
                {"replay: {kafka: {topic: t}}", "workload.replay.kafka.bootstrap_servers is missing"},
                {"replay: {kafka: {bootstrap_servers: 'localhost'}}", "workload.replay.kafka.bootstrap_servers must be host:port"},
                {"replay: {kafka: {bootstrap_servers: 'h:1', max_records: 0}}", "workload.replay.kafka.max_records must be an integer >= 1"},
                {"replay: {kafka: {bootstrap_servers: 'h:1', from: middle}}", "workload.replay.kafka.from must be earliest or latest"},
                {"replay: {kafka: {bootstrap_servers: 'h:1', group: g}}", "workload.replay.kafka.group is not a known field"},
                {"replay: {kafka: {bootstrap_servers: 'h:1', properties: {group.id: g}}}",
                        "workload.replay.kafka.properties.group.id is set by the replay itself"},
                {"replay: {kafka: {bootstrap_servers: 'h:1'}, without_prompt: guess}", "workload.replay.without_prompt must be lengths, skip or fail"},
                {"replay: {without_prompt: skip}", "workload.replay must have exactly one of file"},
                {"replay: {file: missing.jsonl}", "workload.replay.file names"},
                {"replay: [a, b]", "workload.replay must be a file name or a mapping"},
        };
        for (String[] testCase : cases) {
            String message = error("""
                    name: x
                    model: model.gguf
                    requests: 4
                    workload:
                      %s
                    axes:
                      concurrency: 1
                    """.formatted(testCase[0]));
            assertTrue(message.contains(testCase[1]), testCase[0] + " gave: " + message);
        }
    }

    @Test
    void openLoopNeedsRate() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                workload:
                  arrival: open
                axes:
                  concurrency: 4
                """);
        assertTrue(message.contains("axes.concurrency"), message);
        assertTrue(message.contains("axes.rate"), message);
    }

    @Test
    void openLoopReadsRates() throws IOException {
        ExperimentPlan plan = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 4
                baseline: false
                workload:
                  arrival: open
                axes:
                  rate: [0.5, 2]
                """));
        assertEquals(List.of(0.5, 2.0), plan.axes().load());
        assertFalse(plan.baseline());
        assertEquals(2, Sweep.points(plan).size());
    }

    @Test
    void requestsMissingNamed() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                axes:
                  concurrency: 1
                """);
        assertTrue(message.contains("requests is missing"), message);
    }

    @Test
    void indexAxisRejectedForGguf() throws IOException {
        ExperimentPlan plan = new PlanParser(home).parse(write("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  concurrency: 1
                  index_topk: [4, 8]
                """));
        io.sparsemesh.core.checkpoint.ModelCheckpoint checkpoint = io.sparsemesh.core.checkpoint.Checkpoints.open(
                TestData.root().resolve("testdata/hf-tiny/glm_moe_dsa_tiny_b"), null);
        try (checkpoint) {
            String message = assertThrows(PlanException.class, () -> ModelVariant.check(plan, checkpoint.config())).getMessage();
            assertTrue(message.contains("axes.index_topk"), message);
            assertTrue(message.contains("Hugging Face model folder"), message);
        }
    }
}
