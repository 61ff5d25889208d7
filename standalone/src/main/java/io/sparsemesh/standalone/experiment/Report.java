package io.sparsemesh.standalone.experiment;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Writes report.md: the plan, the machine, the tables of medians, the charts and the bottlenecks. */
final class Report {

    private Report() {
    }

    /** @param replay what the replay did with the records it read, or null for synthetic prompts */
    static String render(ExperimentPlan plan, String planText, MachineInfo machine, List<PointSummary> summaries,
                         List<PointResult> results, List<LocalProbe.Quality> quality, List<String> charts,
                         int expectedRuns, ReplaySummary replay) {
        StringBuilder md = new StringBuilder();
        md.append("# Experiment: ").append(plan.name()).append("\n\n");
        md.append("Model `").append(plan.model().getFileName()).append("`, ").append(plan.workload().arrival()
                .name().toLowerCase(Locale.ROOT)).append("-loop workload, ").append(plan.requests())
                .append(" measured requests per point after ").append(plan.warmupRequests())
                .append(" warm-up requests, ").append(plan.repetitions()).append(" repetition(s). ")
                .append(results.size()).append(" of ").append(expectedRuns).append(" runs measured.\n\n");
        md.append("Each repetition starts the services as processes on loopback; the points that differ only in load"
                + " or request shape share that start. The engine baseline is the router alone, running attention"
                + " and experts in its own process behind the same HTTP API.\n\n");

        md.append("## Machine\n\n").append(machine.markdown()).append(loadMarkdown(results)).append('\n');
        if (replay != null) {
            md.append(replayMarkdown(replay));
        }

        md.append("## Throughput and latency (median of repetitions)\n\n");
        md.append("`ping-pong` is the router's sparsemesh.router.ping-pong setting (always off for the engine).\n\n");
        md.append("| point | ping-pong | reps | output tok/s | spread | x engine | req/s | TTFT p50 ms | TTFT p99 ms"
                + " | TPOT p50 ms | TPOT p99 ms | errors | bottleneck |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (PointSummary s : summaries) {
            int errors = results.stream().filter(r -> r.pointId().equals(s.first().pointId())).mapToInt(PointResult::errors).sum();
            md.append("| ").append(s.first().pointId()).append(" | ").append(s.first().pingPong() ? "on" : "off")
                    .append(" | ").append(s.repetitions()).append(" | ")
                    .append(f(s.tokensPerSecond(), 1)).append(" | ").append(f(s.tokensPerSecondSpread(), 1)).append(" | ")
                    .append(f(s.engineRatio(), 2)).append(" | ").append(f(s.requestsPerSecond(), 2)).append(" | ")
                    .append(f(s.ttftP50(), 1)).append(" | ").append(f(s.ttftP99(), 1)).append(" | ")
                    .append(f(s.tpotP50(), 2)).append(" | ").append(f(s.tpotP99(), 2)).append(" | ")
                    .append(errors).append(" | ").append(s.bottleneck()).append(" |\n");
        }

        md.append("\n## Hops, routing and caches (first repetition)\n\n");
        md.append("`step` is the router's mean forward step over every layer, and `step/2L` is step / (2 × layers)."
                + " `attention hop` and `expert hop` are the router's own round-trip timers per layer call, and"
                + " `attention call` and `expert call` the services' compute per call. `overhead` is the mean hop"
                + " minus the compute: transport and codecs per hop.\n\n");
        md.append("| point | step ms | step/2L ms | attention hop ms | expert hop ms | attention call ms | expert call ms"
                + " | overhead ms | expert max/mean | shard max/mean | indexer runs | indexer reuses | KV bytes/token |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (PointSummary s : summaries) {
            PointResult r = s.first();
            md.append("| ").append(r.pointId()).append(" | ").append(f(r.stepMs(), 2)).append(" | ")
                    .append(f(r.hopMs(), 3)).append(" | ").append(f(r.attentionHopMs(), 3)).append(" | ")
                    .append(f(r.expertHopMs(), 3)).append(" | ").append(f(r.attentionCallMs(), 3)).append(" | ")
                    .append(f(r.expertCallMs(), 3)).append(" | ").append(f(r.hopOverheadMs(), 3)).append(" | ")
                    .append(f(r.expertImbalance(), 2)).append(" | ").append(f(r.shardImbalance(), 2)).append(" | ")
                    .append(f(r.indexerRuns(), 0)).append(" | ").append(f(r.indexerReuses(), 0)).append(" | ")
                    .append(f(r.kvBytesPerToken(), 0)).append(" |\n");
        }

        md.append("\n## CPU and memory per component (first repetition)\n\n");
        md.append("Busy is CPU seconds over wall seconds of the measured window (1.0 = one core); the bottleneck is"
                + " the component with the highest busy value.\n\n");
        md.append("| point | component: busy, RSS MiB |\n|---|---|\n");
        for (PointSummary s : summaries) {
            md.append("| ").append(s.first().pointId()).append(" | ").append(s.first().components().stream()
                    .map(c -> c.name() + ": " + f(c.busy(), 2) + ", " + f(c.residentBytes() / 1048576.0, 0))
                    .collect(Collectors.joining("; "))).append(" |\n");
        }

        if (!quality.isEmpty()) {
            md.append("\n## Quality of index variants\n\n");
            md.append("Against the model's own config, on one corpus sequence through the single-process engine. The"
                    + " sequence is longer than the indexer's top-k (where the context allows), so that the indexer"
                    + " leaves keys out.\n\n");
            md.append("| variant | tokens | max abs logit diff | mean abs logit diff | perplexity | reference perplexity |\n");
            md.append("|---|---|---|---|---|---|\n");
            for (LocalProbe.Quality q : quality) {
                md.append("| ").append(q.variant()).append(" | ").append(q.tokens()).append(" | ")
                        .append(f(q.maxAbsLogitDiff(), 4)).append(" | ").append(f(q.meanAbsLogitDiff(), 4)).append(" | ")
                        .append(f(q.perplexity(), 3)).append(" | ").append(f(q.referencePerplexity(), 3)).append(" |\n");
            }
        }

        if (!charts.isEmpty()) {
            md.append("\n## Charts\n\n");
            if (charts.contains("expert-load")) {
                md.append("`expert-load` sums the routers' sparsemesh_router_layer_expert_tokens_total over the measured"
                        + " windows of every mesh run: tokens routed to each expert of each layer (a dense layer's row"
                        + " stays 0).\n\n");
            }
            for (String chart : charts) {
                md.append("![").append(chart).append("](").append(chart).append(".png) ([SVG](").append(chart)
                        .append(".svg))\n\n");
            }
        }

        md.append("\n## Plan\n\n```yaml\n").append(planText.strip()).append("\n```\n");
        return md.toString();
    }

    /** Summarises the load average recorded at the end of each measured window, or returns "" when none was. */
    private static String loadMarkdown(List<PointResult> results) {
        double[] loads = results.stream().filter(r -> r.loadAverage() != null).mapToDouble(PointResult::loadAverage).toArray();
        if (loads.length == 0) {
            return "";
        }
        return "- Load average (1 min) at the end of the measured windows: min " + f(Stats.percentile(loads, 0), 2)
                + ", median " + f(Stats.median(loads), 2) + ", max " + f(Stats.percentile(loads, 100), 2) + " over "
                + loads.length + " runs (column load_average_1m of results.csv).\n";
    }

    private static String replayMarkdown(ReplaySummary replay) {
        return "## Replayed requests\n\n"
                + "Read " + replay.read() + " records from " + replay.source() + ". Each request sends a record's"
                + " prompt and generates its completion_tokens.\n\n"
                + "| records | count |\n|---|---|\n"
                + "| replayed with their prompt | " + replay.withPrompt() + " |\n"
                + "| replayed with a corpus prompt of their length (no prompt text) | " + replay.withLengths() + " |\n"
                + "| skipped: no prompt text (without_prompt: skip) | " + replay.skippedWithoutPrompt() + " |\n"
                + "| skipped: no generated token | " + replay.skippedNoCompletion() + " |\n"
                + "| skipped: unknown schema_version | " + replay.skippedUnknownVersion() + " |\n"
                + "| skipped: invalid | " + replay.skippedInvalid() + " |\n"
                + "| prompts cut to the model's context | " + replay.truncated() + " |\n\n";
    }

    static String f(double value, int decimals) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }
}
