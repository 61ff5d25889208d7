package io.sparsemesh.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Turns the JSON of one JMH run of the kernel benchmarks ({@code -rf json}) into Markdown tables:
 * the machine's limits, then each matmul as a share of the limit it meets at the same thread
 * count. Figures are medians over the measurement iterations of the {@link Work} rates.
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
        System.out.print(report(results));
    }

    static String report(JsonNode results) {
        double[] peak = new double[3];
        double[] bandwidth = new double[3];
        Map<String, double[]> cached = new LinkedHashMap<>();
        Map<String, double[]> streaming = new LinkedHashMap<>();
        for (JsonNode result : results) {
            String name = result.get("benchmark").asString();
            String method = name.substring(name.lastIndexOf('.') + 1);
            int threads = method.endsWith("2Threads") ? 2 : 1;
            double gflops = median(result, "flops") / 1e9;
            double gigabytes = median(result, "bytes") / 1e9;
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

        StringBuilder text = new StringBuilder();
        text.append("| limit | 1 thread | 2 threads |\n|---|---:|---:|\n");
        text.append(String.format(Locale.ROOT, "| FMA peak, GFLOP/s | %.1f | %.1f |%n", peak[1], peak[2]));
        text.append(String.format(Locale.ROOT, "| memory read, GB/s | %.1f | %.1f |%n", bandwidth[1], bandwidth[2]));
        text.append("\nWeights in cache: GFLOP/s and share of the FMA peak\n\n");
        table(text, cached, peak);
        text.append("\nWeights larger than cache: GB/s of weights read and share of the memory read rate\n\n");
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

    /** Returns the median of a {@link Work} counter's per-iteration rates, or 0 if the run has none. */
    private static double median(JsonNode result, String counter) {
        JsonNode metric = result.path("secondaryMetrics").path(counter);
        return metric.path("scorePercentiles").path("50.0").asDouble(0);
    }
}
