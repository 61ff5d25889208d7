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
    void pingPongRejected() throws IOException {
        String message = error("""
                name: x
                model: model.gguf
                requests: 4
                axes:
                  concurrency: 1
                  ping_pong: [false, true]
                """);
        assertTrue(message.contains("axes.ping_pong"), message);
        assertTrue(message.contains("not supported yet"), message);
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
