package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real sweep of two points on the bundled model: the single-process engine and a one-shard mesh,
 * each started as processes on loopback from the modules' executable jars (build them first with
 * {@code ./mvnw -pl standalone -am -DskipTests install}; the test is skipped without them).
 */
class ExperimentEndToEndTest {

    @TempDir
    Path out;

    @Test
    void twoPointSweep() throws Exception {
        Path home = TestData.root();
        Assumptions.assumeTrue(Files.isRegularFile(home.resolve("expert-service/target/expert-service-0.1.0-SNAPSHOT-exec.jar")),
                "the services' executable jars are not built");
        String planText = """
                name: two points
                model: models/stories260K/stories260K.gguf
                repetitions: 1
                warmup_requests: 1
                requests: 3
                axes:
                  shards: [1]
                  concurrency: [2]
                  prompt_tokens: 8
                  output_tokens: 8
                """;
        Path planFile = out.resolve("plan.yaml");
        Files.writeString(planFile, planText);
        ExperimentPlan plan = new PlanParser(home).parse(planFile);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        ExperimentRunner runner = new ExperimentRunner(plan, planText, home, out.resolve("results"),
                new PrintStream(console, true, StandardCharsets.UTF_8));

        assertEquals(2, runner.run(), console.toString(StandardCharsets.UTF_8));

        List<PointResult> results = new ResultStore(out.resolve("results")).load();
        for (PointResult result : results) {
            assertEquals(0, result.errors(), result.pointId() + ": " + result.firstError());
            assertTrue(result.outputTokensPerSecond() > 0, result.pointId());
            assertTrue(result.tpotP50() > 0, result.pointId());
            assertTrue(result.components().stream().allMatch(c -> c.cpuSeconds() >= 0), result.pointId());
        }
        PointResult mesh = results.stream().filter(r -> r.kind().equals("mesh")).findFirst().orElseThrow();
        assertTrue(mesh.stepMs() > 0, "router step duration");
        assertTrue(mesh.shardTokens()[0] > 0, "tokens computed by expert shard 0");
        assertEquals(4, mesh.components().size(), "tokenizer, attention, expert shard and router");
        assertTrue(Files.readString(out.resolve("results/report.md")).contains("x engine"));
    }
}
