package io.sparsemesh.standalone.experiment;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Samples of one scrape in the Prometheus text exposition format, keyed by the series as written
 * ({@code name{label="value",...}}). Comment lines are skipped.
 */
public record PrometheusText(Map<String, Double> samples) {

    public static PrometheusText parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int split = line.lastIndexOf(' ');
            if (split < 0) {
                continue;
            }
            String series = line.substring(0, split).strip();
            String value = line.substring(split + 1).strip();
            try {
                samples.put(series, Double.parseDouble(value));
            } catch (NumberFormatException e) {
                // a timestamp column or a malformed line: not a sample this parser needs
            }
        }
        return new PrometheusText(Map.copyOf(samples));
    }

    public static PrometheusText empty() {
        return new PrometheusText(Map.of());
    }

    /** Returns the sum of every series of metric {@code name} (any labels), 0 when absent. */
    public double sum(String name) {
        return sum(name, series -> true);
    }

    /** Returns the sum of the series of {@code name} whose full key passes {@code filter}. */
    public double sum(String name, Predicate<String> filter) {
        double total = 0;
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            String key = sample.getKey();
            boolean matches = key.equals(name) || key.startsWith(name + "{");
            if (matches && filter.test(key)) {
                total += sample.getValue();
            }
        }
        return total;
    }

    /** Returns the value of label {@code label} in a series key, or null. */
    public static String label(String series, String label) {
        String marker = label + "=\"";
        int start = series.indexOf(marker);
        if (start < 0) {
            return null;
        }
        start += marker.length();
        int end = series.indexOf('"', start);
        return end < 0 ? null : series.substring(start, end);
    }

    /**
     * Returns counts by the integer label {@code label} of metric {@code name}, as an array of
     * {@code size} entries (series with other or missing label values are skipped).
     */
    public double[] byIndex(String name, String label, int size) {
        double[] values = new double[size];
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            if (!sample.getKey().startsWith(name + "{")) {
                continue;
            }
            int index = index(label(sample.getKey(), label), size);
            if (index >= 0) {
                values[index] += sample.getValue();
            }
        }
        return values;
    }

    /**
     * Returns counts by two integer labels of metric {@code name}, as a {@code rows × columns}
     * matrix indexed by {@code rowLabel} then {@code columnLabel} (series with other or missing
     * label values are skipped).
     */
    public double[][] byIndices(String name, String rowLabel, int rows, String columnLabel, int columns) {
        double[][] values = new double[rows][columns];
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            if (!sample.getKey().startsWith(name + "{")) {
                continue;
            }
            int row = index(label(sample.getKey(), rowLabel), rows);
            int column = index(label(sample.getKey(), columnLabel), columns);
            if (row >= 0 && column >= 0) {
                values[row][column] += sample.getValue();
            }
        }
        return values;
    }

    /** Returns {@code value} as an index below {@code size}, or -1 when it is missing or no such index. */
    private static int index(String value, int size) {
        if (value == null) {
            return -1;
        }
        try {
            int index = Integer.parseInt(value);
            return index >= 0 && index < size ? index : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
