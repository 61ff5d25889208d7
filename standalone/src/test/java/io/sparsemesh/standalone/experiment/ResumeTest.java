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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep interrupted after some runs: the runs saved in the results directory are skipped on the
 * rerun. Here every run is already saved (and one write was cut off, leaving only its temporary
 * file), so the rerun must start no service and only rebuild the tables and the report. A rerun
 * with other measurement fields than the saved plan.yaml is rejected before anything starts.
 */
class ResumeTest {

    private static final String PLAN = """
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

    @TempDir
    Path out;

    @Test
    void savedRunsSkipped() throws Exception {
        Path home = TestData.root();
        Path planFile = out.resolve("plan-in.yaml");
        String planText = PLAN;
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

    @Test
    void changedPlanRejected() throws Exception {
        Path home = TestData.root();
        ResultStore store = savedSweep(home, PLAN);
        Path otherModel = Files.copy(home.resolve("models/stories260K/stories260K.gguf"), out.resolve("other.gguf"));
        String changed = PLAN.replace("requests: 4", "requests: 50")
                .replace("models/stories260K/stories260K.gguf", otherModel.toString());
        List<String> pointsBefore = savedPointFiles(store);

        PlanChangedException error = assertThrows(PlanChangedException.class, () -> runner(home, changed, store).run());

        String message = error.getMessage();
        assertTrue(message.contains("requests: 4 -> 50"), message);
        assertTrue(message.contains("model: " + home.resolve("models/stories260K/stories260K.gguf") + " -> " + otherModel),
                message);
        assertFalse(message.contains("warmup_requests"), message);
        assertTrue(message.contains("use a new --out directory, or delete " + store.directory()), message);
        assertEquals(PLAN, Files.readString(store.directory().resolve("plan.yaml")), "the saved plan must be kept");
        assertEquals(pointsBefore, savedPointFiles(store));
    }

    @Test
    void changedWorkloadRejected() throws Exception {
        Path home = TestData.root();
        ResultStore store = savedSweep(home, PLAN);
        String changed = PLAN + """
                warmup_requests: 2
                workload:
                  corpus: models/stories260K/README.md
                """;

        PlanChangedException error = assertThrows(PlanChangedException.class, () -> runner(home, changed, store).run());

        assertTrue(error.getMessage().contains("warmup_requests: 4 -> 2"), error.getMessage());
        assertTrue(error.getMessage().contains("workload.corpus: "), error.getMessage());
        assertFalse(error.getMessage().matches("(?s).*\\brequests: 4 ->.*"), "requests did not change: " + error.getMessage());
    }

    @Test
    void removedAxisValueResumes() throws Exception {
        Path home = TestData.root();
        ResultStore store = savedSweep(home, PLAN);
        // fewer points and repetitions and a new name change no saved run, so the sweep resumes on
        // the runs that remain
        String smaller = PLAN.replace("name: resume", "name: resume again").replace("repetitions: 2", "repetitions: 1")
                .replace("concurrency: [1, 2]", "concurrency: [2]");
        ByteArrayOutputStream console = new ByteArrayOutputStream();

        int runs = runner(home, smaller, store, console).run();

        String printed = console.toString(StandardCharsets.UTF_8);
        assertEquals(2, runs);
        assertTrue(printed.contains("Resuming: 2 of 2 runs"), printed);
        assertTrue(printed.contains("Left out of the report: 6 saved run(s)"), printed);
        assertFalse(printed.contains("starting"), printed);
        assertEquals(1 + 2, Files.readAllLines(store.directory().resolve("results.csv")).size());
        assertEquals(8, savedPointFiles(store).size(), "runs of removed points must stay saved");
        assertEquals(smaller, Files.readString(store.directory().resolve("plan.yaml")));
    }

    /** Saves every run of {@code planText} and reruns it once, which copies the plan to the results. */
    private ResultStore savedSweep(Path home, String planText) throws Exception {
        ResultStore store = new ResultStore(out.resolve("results"));
        ExperimentPlan plan = parse(home, planText);
        for (SweepPoint point : Sweep.points(plan)) {
            for (int rep = 0; rep < plan.repetitions(); rep++) {
                store.save(recorded(point, rep, 100));
            }
        }
        assertEquals(8, runner(home, planText, store).run());
        return store;
    }

    private ExperimentRunner runner(Path home, String planText, ResultStore store) throws IOException {
        return runner(home, planText, store, new ByteArrayOutputStream());
    }

    private ExperimentRunner runner(Path home, String planText, ResultStore store, ByteArrayOutputStream console)
            throws IOException {
        return new ExperimentRunner(parse(home, planText), planText, home, store.directory(),
                new PrintStream(console, true, StandardCharsets.UTF_8));
    }

    private ExperimentPlan parse(Path home, String planText) throws IOException {
        Path planFile = Files.writeString(out.resolve("plan-in.yaml"), planText);
        return new PlanParser(home).parse(planFile);
    }

    private static List<String> savedPointFiles(ResultStore store) throws IOException {
        try (var files = Files.list(store.directory().resolve("points"))) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static PointResult recorded(SweepPoint point, int repetition, double tokensPerSecond) throws IOException {
        return new PointResult(point.id(), point.kind().name().toLowerCase(), point.shards(), point.replicas(),
                point.attentionReplicas(), point.wireDtype(), point.pingPong(), point.indexVariant(), point.load(), point.promptTokens(),
                point.outputTokens(), repetition, 4, 0, 1, tokensPerSecond, 4, 10, 12, 13, 1, 1.5, 2, 5, 0.5, 0.3, 0.4, 0.1, 0.1,
                0.3, Double.NaN, Double.NaN, Double.NaN, new double[0], null, new double[]{8}, Double.NaN, 1,
                List.of(new PointResult.ComponentUsage("router", 1, 0.9, 100 << 20)), "router", 1.5 + repetition, null);
    }
}
