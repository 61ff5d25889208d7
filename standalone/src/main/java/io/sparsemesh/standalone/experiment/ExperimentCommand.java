package io.sparsemesh.standalone.experiment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./sparsemesh experiment}: runs the sweep of a plan and writes results.csv, results.json,
 * charts and report.md to the output directory. Rerunning with the same {@code --out} resumes.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Run a sweep of mesh topologies and workloads from a YAML plan; rerun with the same --out to resume.")
public final class ExperimentCommand implements Callable<Integer> {

    @Option(names = "--plan", paramLabel = "PLAN.yaml", required = true, description = "Experiment plan (see experiments/README.md).")
    private Path planFile;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Results directory; runs already saved there are skipped. A plan whose model,"
                    + " requests, warmup_requests or workload differ from the saved plan.yaml is rejected.")
    private Path out;

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getProperty("sparsemesh.home", ".")).toAbsolutePath();
        PrintStream console = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        ExperimentPlan plan;
        try {
            plan = new PlanParser(home).parse(planFile);
        } catch (PlanException e) {
            console.println("Invalid plan: " + e.getMessage());
            return 2;
        }
        String planText = Files.readString(planFile);
        ExperimentRunner runner = new ExperimentRunner(plan, planText, home, out.toAbsolutePath(), console);

        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            console.println("\nStopping: closing the running services; measured runs are kept in " + out);
            runner.stop();
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "experiment-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            int runs = runner.run();
            console.printf("%s %d run(s); report: %s%n", runner.stopped() ? "Stopped after" : "Finished:", runs,
                    out.resolve("report.md"));
            return runner.stopped() ? 130 : 0;
        } catch (PlanException e) {
            console.println("Invalid plan: " + e.getMessage());
            return 2;
        } catch (PlanChangedException e) {
            console.println(e.getMessage());
            return 2;
        } finally {
            finished.countDown();
            if (!runner.stopped()) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
    }
}
