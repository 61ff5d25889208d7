package io.sparsemesh.standalone.experiment;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** The report's charts, each written as PNG and SVG with XChart; returns the base names written. */
final class Plots {

    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;

    private Plots() {
    }

    static List<String> write(Path directory, List<PointSummary> summaries, long[][] layerExpertTokens,
                              List<LocalProbe.Quality> quality) {
        System.setProperty("java.awt.headless", "true");
        List<String> written = new ArrayList<>();
        if (!summaries.isEmpty()) {
            save(throughput(summaries), directory, "throughput", written);
            save(latency(summaries), directory, "latency", written);
        }
        if (layerExpertTokens != null && layerExpertTokens.length > 0 && layerExpertTokens[0].length > 0) {
            save(heatmap(layerExpertTokens), directory, "expert-load", written);
        }
        if (!quality.isEmpty()) {
            save(indexTradeOff(summaries, quality), directory, "index-sharing", written);
        }
        return written;
    }

    /** Median output tokens/s per topology, one bar group per load. */
    private static CategoryChart throughput(List<PointSummary> summaries) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Throughput by topology").xAxisTitle("topology (shards x replicas, attention replicas)")
                .yAxisTitle("output tokens/s (median)").build();
        TreeSet<Double> loads = new TreeSet<>();
        List<String> topologies = new ArrayList<>();
        for (PointSummary summary : summaries) {
            loads.add(summary.first().load());
            String topology = topology(summary.first());
            if (!topologies.contains(topology)) {
                topologies.add(topology);
            }
        }
        for (double load : loads) {
            List<Double> values = new ArrayList<>();
            for (String topology : topologies) {
                values.add(summaries.stream()
                        .filter(s -> s.first().load() == load && topology(s.first()).equals(topology))
                        .mapToDouble(PointSummary::tokensPerSecond).max().orElse(0));
            }
            chart.addSeries("load " + SweepPoint.formatLoad(load), topologies, values);
        }
        return chart;
    }

    /** TTFT and TPOT percentiles against load, one line per topology and percentile. */
    private static XYChart latency(List<PointSummary> summaries) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Latency against load")
                .xAxisTitle("load (clients or requests/s)").yAxisTitle("ms (median of repetitions)").build();
        Map<String, List<PointSummary>> byTopology = new LinkedHashMap<>();
        for (PointSummary summary : summaries) {
            byTopology.computeIfAbsent(topology(summary.first()), t -> new ArrayList<>()).add(summary);
        }
        for (Map.Entry<String, List<PointSummary>> entry : byTopology.entrySet()) {
            List<PointSummary> points = new ArrayList<>(entry.getValue());
            points.sort((a, b) -> Double.compare(a.first().load(), b.first().load()));
            double[] load = points.stream().mapToDouble(s -> s.first().load()).toArray();
            addLine(chart, entry.getKey() + " TPOT p50", load, points.stream().mapToDouble(PointSummary::tpotP50).toArray());
            addLine(chart, entry.getKey() + " TPOT p99", load, points.stream().mapToDouble(PointSummary::tpotP99).toArray());
            addLine(chart, entry.getKey() + " TTFT p50", load, points.stream().mapToDouble(PointSummary::ttftP50).toArray());
        }
        return chart;
    }

    private static void addLine(XYChart chart, String name, double[] x, double[] y) {
        double[] clean = y.clone();
        for (int i = 0; i < clean.length; i++) {
            if (Double.isNaN(clean[i])) {
                clean[i] = 0;
            }
        }
        chart.addSeries(name, x, clean).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    }

    private static HeatMapChart heatmap(long[][] counts) {
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Tokens routed per layer and expert (router counters, every mesh run)")
                .xAxisTitle("expert").yAxisTitle("layer").build();
        int layers = counts.length;
        int experts = counts[0].length;
        List<Integer> x = new ArrayList<>();
        List<Integer> y = new ArrayList<>();
        List<Number[]> heat = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            x.add(e);
        }
        for (int l = 0; l < layers; l++) {
            y.add(l);
            for (int e = 0; e < experts; e++) {
                heat.add(new Number[]{e, l, counts[l][e]});
            }
        }
        chart.addSeries("tokens", x, y, heat);
        return chart;
    }

    /** One point per index variant: its mean absolute logit difference against its throughput. */
    private static XYChart indexTradeOff(List<PointSummary> summaries, List<LocalProbe.Quality> quality) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Index sharing: speed against quality")
                .xAxisTitle("mean |logit difference| against the model's own config")
                .yAxisTitle("output tokens/s (best load)").build();
        for (LocalProbe.Quality variant : quality) {
            double tokens = summaries.stream().filter(s -> s.first().indexVariant().equals(variant.variant()))
                    .mapToDouble(PointSummary::tokensPerSecond).max().orElse(0);
            chart.addSeries(variant.variant(), new double[]{variant.meanAbsLogitDiff()}, new double[]{tokens})
                    .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        return chart;
    }

    static String topology(PointResult result) {
        String base = result.kind().equals("engine") ? "engine"
                : result.shards() + "x" + result.replicas() + ", a" + result.attentionReplicas() + " " + result.wireDtype()
                + (result.pingPong() ? " ping-pong" : "");
        return result.indexVariant().equals("model") ? base : base + " " + result.indexVariant();
    }

    private static void save(Chart<?, ?> chart, Path directory, String name, List<String> written) {
        try {
            BitmapEncoder.saveBitmap(chart, directory.resolve(name + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(chart, directory.resolve(name + ".svg").toString(),
                    VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to write the chart " + name + " in " + directory, e);
        }
        written.add(name);
    }
}
