package io.sparsemesh.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * Records how many cores the benchmark process got during each iteration: its CPU time divided by
 * the iteration's wall time. On a shared machine a single-threaded benchmark may get half a core.
 * Its rate divided by this share is the rate per CPU-second, which the kernel report compares
 * when other processes compete. Use with {@code -prof io.sparsemesh.benchmarks.CpuTimeProfiler}.
 */
public class CpuTimeProfiler implements InternalProfiler {

    static final String LABEL = "cpu.cores";

    private final com.sun.management.OperatingSystemMXBean system =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long cpuStart;
    private long wallStart;

    @Override
    public String getDescription() {
        return "Cores used by the benchmark process: its CPU time per wall time";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        cpuStart = system.getProcessCpuTime();
        wallStart = System.nanoTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        double cores = (system.getProcessCpuTime() - cpuStart) / (double) (System.nanoTime() - wallStart);
        return List.of(new ScalarResult(LABEL, cores, "cores", AggregationPolicy.AVG));
    }
}
