package io.sparsemesh.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Turns the JSON of one JMH run of the kernel benchmarks ({@code -rf json}) into Markdown tables:
 * the machine's limits, then each matmul as a share of the limit it meets at the same thread
 * count. Figures are medians over the measurement iterations of the {@link Work} rates.
 *
 * <p>When the run used {@link CpuTimeProfiler}, a second set of tables divides each iteration's
 * rate by the cores the process got in it, which compares kernels fairly on a shared machine.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.sparsemesh.benchmarks.KernelReport results.json}
 */
public final class KernelReport {

    private KernelReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: KernelReport RESULTS.json   (the file written by JMH's -rf json -rff RESULTS.json)");
            System.exit(2);
        }
        JsonNode results = new ObjectMapper().readTree(Files.readString(Path.of(args[0])));
        System.out.print(report(results, false));
        if (results.size() > 0 && results.get(0).path("secondaryMetrics").has(CpuTimeProfiler.LABEL)) {
            System.out.print("\n### Per CPU-second (each iteration's rate divided by the cores the process used)\n\n");
            System.out.print(report(results, true));
        }
    }

    static String report(JsonNode results, boolean perCpuSecond) {
        double[] peak = new double[3];
        double[] bandwidth = new double[3];
        Map<String, double[]> cached = new LinkedHashMap<>();
        Map<String, double[]> streaming = new LinkedHashMap<>();
        for (JsonNode result : results) {
            String name = result.get("benchmark").asString();
            String method = name.substring(name.lastIndexOf('.') + 1);
            int threads = method.endsWith("2Threads") ? 2 : 1;
            double gflops = median(result, "flops", perCpuSecond) / 1e9;
            double gigabytes = median(result, "bytes", perCpuSecond) / 1e9;
            if (name.contains("PeakBenchmark")) {
                peak[threads] = gflops;
            } else if (name.contains("BandwidthBenchmark")) {
                bandwidth[threads] = gigabytes;
            } else if (name.contains("CachedMatmulBenchmark")) {
                cached.computeIfAbsent(caseOf(result), key -> new double[3])[threads] = gflops;
            } else if (name.contains("StreamingMatmulBenchmark")) {
                streaming.computeIfAbsent(caseOf(result), key -> new double[3])[threads] = gigabytes;
            }
        }

        String unit = perCpuSecond ? " per CPU-second" : "";
        StringBuilder text = new StringBuilder();
        text.append("| limit | 1 thread | 2 threads |\n|---|---:|---:|\n");
        text.append(String.format(Locale.ROOT, "| FMA peak, GFLOP/s%s | %.1f | %.1f |%n", unit, peak[1], peak[2]));
        text.append(String.format(Locale.ROOT, "| memory read, GB/s%s | %.1f | %.1f |%n", unit, bandwidth[1], bandwidth[2]));
        text.append("\nWeights in cache: GFLOP/s").append(unit).append(" and share of the FMA peak\n\n");
        table(text, cached, peak);
        text.append("\nWeights larger than cache: GB/s of weights read").append(unit).append(" and share of the memory read rate\n\n");
        table(text, streaming, bandwidth);
        return text.toString();
    }

    private static void table(StringBuilder text, Map<String, double[]> rows, double[] limit) {
        text.append("| type | shape | batch | 1 thread | % of limit | 2 threads | % of limit |\n");
        text.append("|---|---|---:|---:|---:|---:|---:|\n");
        rows.forEach((key, rate) -> text.append(String.format(Locale.ROOT, "| %s | %.1f | %s | %.1f | %s |%n",
                key, rate[1], percent(rate[1], limit[1]), rate[2], percent(rate[2], limit[2]))));
    }

    private static String percent(double rate, double limit) {
        return limit > 0 && rate > 0 ? String.format(Locale.ROOT, "%.0f %%", 100 * rate / limit) : "n/a";
    }

    /** Returns "type | shape | batch" from the benchmark's parameters. */
    private static String caseOf(JsonNode result) {
        JsonNode params = result.get("params");
        return params.get("dtype").asString() + " | " + params.get("shape").asString() + " | " + params.get("batch").asString();
    }

    /**
     * Returns the median over iterations of a {@link Work} counter's rate, divided in each
     * iteration by the cores used when {@code perCpuSecond} is true, or 0 if the run has none.
     */
    private static double median(JsonNode result, String counter, boolean perCpuSecond) {
        List<Double> rates = rawData(result, counter);
        if (perCpuSecond) {
            List<Double> cores = rawData(result, CpuTimeProfiler.LABEL);
            for (int i = 0; i < rates.size() && i < cores.size(); i++) {
                rates.set(i, cores.get(i) > 0 ? rates.get(i) / cores.get(i) : 0);
            }
        }
        if (rates.isEmpty()) {
            return 0;
        }
        Collections.sort(rates);
        int middle = rates.size() / 2;
        return rates.size() % 2 == 1 ? rates.get(middle) : (rates.get(middle - 1) + rates.get(middle)) / 2;
    }

    /** Returns the per-iteration values of a secondary metric, all forks in order. */
    private static List<Double> rawData(JsonNode result, String metric) {
        List<Double> values = new ArrayList<>();
        for (JsonNode fork : result.path("secondaryMetrics").path(metric).path("rawData")) {
            for (JsonNode value : fork) {
                values.add(value.asDouble());
            }
        }
        return values;
    }
}
