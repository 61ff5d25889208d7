package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep interrupted after some runs: the runs saved in the results directory are skipped on the
 * rerun. Here every run is already saved (and one write was cut off, leaving only its temporary
 * file), so the rerun must start no service and only rebuild the tables and the report.
 */
class ResumeTest {

    @TempDir
    Path out;

    @Test
    void savedRunsSkipped() throws Exception {
        Path home = TestData.root();
        Path planFile = out.resolve("plan-in.yaml");
        String planText = """
                name: resume
                model: models/stories260K/stories260K.gguf
                repetitions: 2
                requests: 4
                axes:
                  shards: [1]
                  concurrency: [1, 2]
                  prompt_tokens: 8
                  output_tokens: 8
                """;
        Files.writeString(planFile, planText);
        ExperimentPlan plan = new PlanParser(home).parse(planFile);
        List<SweepPoint> points = Sweep.points(plan);
        assertEquals(4, points.size());

        ResultStore store = new ResultStore(out.resolve("results"));
        for (SweepPoint point : points) {
            for (int rep = 0; rep < plan.repetitions(); rep++) {
                store.save(recorded(point, rep, point.kind() == SweepPoint.Kind.ENGINE ? 200 : 100));
            }
        }
        // an interrupted write leaves its temporary file, which must not count as a saved run
        Files.writeString(out.resolve("results/points/mesh-cut-rep0.json.tmp"), "{\"pointId\":");

        ByteArrayOutputStream console = new ByteArrayOutputStream();
        ExperimentRunner runner = new ExperimentRunner(plan, planText, home, store.directory(),
                new PrintStream(console, true, StandardCharsets.UTF_8));
        int runs = runner.run();

        String printed = console.toString(StandardCharsets.UTF_8);
        assertEquals(8, runs);
        assertTrue(printed.contains("Resuming: 8 of 8 runs"), printed);
        assertFalse(printed.contains("starting"), printed);
        assertFalse(Files.exists(store.directory().resolve("logs")), "no service should have been started");
        List<String> csv = Files.readAllLines(store.directory().resolve("results.csv"));
        assertEquals(ResultStore.CSV_HEADER, csv.getFirst());
        assertEquals(1 + 8, csv.size());
        String report = Files.readString(store.directory().resolve("report.md"));
        assertTrue(report.contains("8 of 8 runs measured"), report);
        assertTrue(report.contains("| 0.50 |"), "mesh throughput should be half the engine's: " + report);
        assertTrue(report.contains("at the end of the measured windows: min 1.50, median 2.00, max 2.50 over 8 runs"),
                report);
        assertTrue(Files.isRegularFile(store.directory().resolve("throughput.png")));
        assertTrue(Files.isRegularFile(store.directory().resolve("latency.svg")));
    }

    private static PointResult recorded(SweepPoint point, int repetition, double tokensPerSecond) throws IOException {
        return new PointResult(point.id(), point.kind().name().toLowerCase(), point.shards(), point.replicas(),
                point.attentionReplicas(), point.wireDtype(), point.pingPong(), point.indexVariant(), point.load(), point.promptTokens(),
                point.outputTokens(), repetition, 4, 0, 1, tokensPerSecond, 4, 10, 12, 13, 1, 1.5, 2, 5, 0.5, 0.3, 0.4, 0.1, 0.1,
                0.3, Double.NaN, Double.NaN, Double.NaN, new double[0], null, new double[]{8}, Double.NaN, 1,
                List.of(new PointResult.ComponentUsage("router", 1, 0.9, 100 << 20)), "router", 1.5 + repetition, null);
    }
}
