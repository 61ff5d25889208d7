package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a sweep. For each repetition and each group of points that share a topology and model
 * variant, it starts the services, measures the points of the group not yet in the results
 * directory, and stops them. Then it rewrites the tables, charts and report. {@link #stop()}
 * (called from the Ctrl-C hook) closes the running services and ends the sweep, and finished runs
 * stay saved.
 */
public final class ExperimentRunner {

    private static final Logger log = LoggerFactory.getLogger(ExperimentRunner.class);

    private final ExperimentPlan plan;
    private final String planText;
    private final Path home;
    private final ResultStore store;
    private final PrintStream console;
    private volatile boolean stopping;
    private volatile Deployment running;

    public ExperimentRunner(ExperimentPlan plan, String planText, Path home, Path out, PrintStream console) {
        this.plan = plan;
        this.planText = planText;
        this.home = home;
        this.store = new ResultStore(out);
        this.console = console;
    }

    /** Asks the sweep to end and stops the services being measured, so the current run fails fast. */
    public void stop() {
        stopping = true;
        Deployment deployment = running;
        if (deployment != null) {
            deployment.close();
        }
    }

    public boolean stopped() {
        return stopping;
    }

    /** Runs the sweep and writes the results; returns the number of runs measured in total. */
    public int run() throws Exception {
        String loadBefore = MachineInfo.loadAverage();
        ModelConfig config;
        Tokenizer tokenizer;
        try (ModelCheckpoint checkpoint = Checkpoints.open(plan.model(), null)) {
            config = checkpoint.config();
            tokenizer = checkpoint.tokenizer() == null ? null : Tokenizers.open(checkpoint.tokenizer());
        }
        ModelVariant.check(plan, config);
        int context = Math.min(config.maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        List<SweepPoint> points = Sweep.points(plan);
        for (SweepPoint point : points) {
            if (point.promptTokens() + point.outputTokens() > context) {
                throw new PlanException("axes.prompt_tokens + axes.output_tokens = " + point.promptTokens() + " + "
                        + point.outputTokens() + " exceeds the context of " + plan.model().getFileName() + " (" + context
                        + " tokens)");
            }
        }
        PromptSource prompts = PromptSource.fromCorpus(plan.workload().corpus(), tokenizer, config.vocabSize());
        List<PromptSource.RecordedRequest> replay = plan.workload().replay() == null ? null
                : PromptSource.readReplay(plan.workload().replay());
        store.writeText("plan.yaml", planText);

        Map<String, List<SweepPoint>> groups = new LinkedHashMap<>();
        for (SweepPoint point : points) {
            groups.computeIfAbsent(deploymentKey(point), key -> new ArrayList<>()).add(point);
        }
        int total = points.size() * plan.repetitions();
        int alreadyDone = 0;
        for (SweepPoint point : points) {
            for (int rep = 0; rep < plan.repetitions(); rep++) {
                alreadyDone += store.contains(point, rep) ? 1 : 0;
            }
        }
        Progress progress = new Progress(console, total, alreadyDone);
        if (alreadyDone > 0) {
            console.printf("Resuming: %d of %d runs already in %s%n", alreadyDone, total, store.directory());
        }
        int experts = config.moe() == null ? 0 : config.moe().numRoutedExperts();
        PointMeasurement measurement = new PointMeasurement(plan.workload().arrival(),
                tokenizer == null ? LoadGenerator.Api.GRPC : LoadGenerator.Api.HTTP, config.numLayers(), experts);
        String densePlacement = config.moe() == null ? "SHARDS" : "ROUTER";

        sweep:
        for (int rep = 0; rep < plan.repetitions(); rep++) {
            for (List<SweepPoint> group : groups.values()) {
                int repetition = rep;
                List<SweepPoint> todo = group.stream().filter(p -> !store.contains(p, repetition)).toList();
                if (todo.isEmpty()) {
                    continue;
                }
                if (stopping) {
                    break sweep;
                }
                SweepPoint first = todo.getFirst();
                Path model = ModelVariant.forPoint(plan.model(), first, config.numLayers(), store.directory().resolve("work"));
                Path logs = store.directory().resolve("logs").resolve(deploymentKey(first) + "-rep" + rep);
                progress.starting("starting " + topologyLabel(first) + ", repetition " + (rep + 1));
                long startNanos = System.nanoTime();
                try (Deployment deployment = new Deployment()) {
                    running = deployment;
                    if (stopping) {
                        break sweep;
                    }
                    deployment.start(first, home, model, tokenizer != null, densePlacement, context, logs);
                    for (SweepPoint point : todo) {
                        progress.starting(point.label() + ", repetition " + (rep + 1));
                        List<RequestShape> warmup = shapes(prompts, replay, point, plan.warmupRequests(), context);
                        List<RequestShape> requests = shapes(prompts, replay, point, plan.requests(), context);
                        PointResult result = measurement.measure(deployment, point, rep, warmup, requests);
                        if (stopping) {
                            break sweep;
                        }
                        store.save(result);
                        progress.finished(System.nanoTime() - startNanos);
                        startNanos = System.nanoTime();
                        console.printf("  %.1f output tokens/s, TPOT p50 %.2f ms, %d error(s), bottleneck %s%n",
                                result.outputTokensPerSecond(), result.tpotP50(), result.errors(), result.bottleneck());
                    }
                } catch (Exception e) {
                    if (stopping) {
                        break sweep;
                    }
                    throw e;
                } finally {
                    running = null;
                }
            }
        }
        writeOutputs(config, prompts, points, total, loadBefore);
        return store.load().size();
    }

    private void writeOutputs(ModelConfig config, PromptSource prompts, List<SweepPoint> points, int total,
                              String loadBefore) {
        List<PointResult> results = store.load();
        store.writeTables(results);
        List<PointSummary> summaries = PointSummary.of(results);

        List<LocalProbe.Quality> quality = new ArrayList<>();
        long[][] routing = null;
        if (!stopping) {
            int sequence = Math.min(64, Math.min(config.maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT));
            int[] tokens = prompts.synthetic(1, sequence, 1).getFirst().promptIds();
            if (plan.quality()) {
                List<String> seen = new ArrayList<>();
                for (SweepPoint point : points) {
                    if (point.indexVariant().equals("model") || seen.contains(point.indexVariant())) {
                        continue;
                    }
                    seen.add(point.indexVariant());
                    Path variant = ModelVariant.forPoint(plan.model(), point, config.numLayers(), store.directory().resolve("work"));
                    quality.add(LocalProbe.quality(plan.model(), variant, point.indexVariant(), tokens));
                }
                store.writeJson("quality.json", quality);
            }
            if (config.moe() != null) {
                List<int[]> routed = new ArrayList<>();
                for (RequestShape shape : prompts.synthetic(8, Math.min(32, sequence), 1)) {
                    routed.add(shape.promptIds());
                }
                routing = LocalProbe.routing(plan.model(), routed);
                store.writeJson("expert-load.json", routing);
            }
        }
        List<String> charts = Plots.write(store.directory(), summaries, routing, quality);
        MachineInfo machine = MachineInfo.now(loadBefore);
        store.writeText("report.md", Report.render(plan, planText, machine, summaries, results, quality, charts, total));
        log.info("Wrote {} runs to {}", results.size(), store.directory());
    }

    private static List<RequestShape> shapes(PromptSource prompts, List<PromptSource.RecordedRequest> replay,
                                             SweepPoint point, int count, int context) {
        return replay == null ? prompts.synthetic(count, point.promptTokens(), point.outputTokens())
                : prompts.replay(replay, count, context);
    }

    /** Points with the same key run on one start of the services. */
    static String deploymentKey(SweepPoint point) {
        String index = point.indexVariant().replace('/', '-');
        return point.kind() == SweepPoint.Kind.ENGINE ? "engine-" + index
                : "mesh-s%d-r%d-a%d-%s-%s".formatted(point.shards(), point.replicas(), point.attentionReplicas(),
                point.wireDtype(), index);
    }

    private static String topologyLabel(SweepPoint point) {
        return point.kind() == SweepPoint.Kind.ENGINE ? "the single-process engine"
                : "the mesh (%d shard(s) x %d replica(s), %d attention replica(s), %s)".formatted(point.shards(),
                point.replicas(), point.attentionReplicas(), point.wireDtype());
    }
}
