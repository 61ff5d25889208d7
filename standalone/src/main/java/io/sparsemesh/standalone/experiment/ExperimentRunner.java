package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Runs a sweep. For each repetition and each group of points that share a topology and model
 * variant, it starts the services, measures the points of the group not yet in the results
 * directory, and stops them. Then it rewrites the tables, charts and report. {@link #stop()}
 * (called from the Ctrl-C hook) closes the running services and ends the sweep, and finished runs
 * stay saved.
 */
public final class ExperimentRunner {

    private static final Logger log = LoggerFactory.getLogger(ExperimentRunner.class);

    /** File in the results directory with the positions of the Kafka records a replay reads. */
    static final String REPLAY_POSITIONS = "replay-records.json";

    private final ExperimentPlan plan;
    private final String planText;
    private final Path home;
    private final ResultStore store;
    private final PrintStream console;
    private final Map<String, String> routerProperties;
    private volatile boolean stopping;
    private volatile Deployment running;

    public ExperimentRunner(ExperimentPlan plan, String planText, Path home, Path out, PrintStream console) {
        this(plan, planText, home, out, console, Map.of());
    }

    /** @param routerProperties further properties of every router the sweep starts, such as a Kafka log to write */
    ExperimentRunner(ExperimentPlan plan, String planText, Path home, Path out, PrintStream console,
                     Map<String, String> routerProperties) {
        this.plan = plan;
        this.planText = planText;
        this.home = home;
        this.store = new ResultStore(out);
        this.console = console;
        this.routerProperties = Map.copyOf(routerProperties);
    }

    /**
     * Positions of the Kafka records a replay read, saved on the first run of a sweep so that a
     * resumed run replays the same records, whatever the topic has received since.
     */
    record ReplayPositions(String topic, String bootstrapServers, List<KafkaTopicReader.RecordPosition> positions) {
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

    /**
     * Runs the sweep and writes the results; returns the number of the plan's runs measured in total.
     *
     * @throws PlanChangedException when the results directory contains runs of a plan with other
     *                              measurement fields (see {@link PlanFingerprint})
     */
    public int run() throws Exception {
        checkSavedPlan();
        String loadBefore = MachineInfo.loadAverage();
        ModelConfig config;
        Tokenizer tokenizer;
        Path tokenizerPath;
        try (ModelCheckpoint checkpoint = Checkpoints.open(plan.model(), null)) {
            config = checkpoint.config();
            tokenizerPath = checkpoint.tokenizer();
            tokenizer = tokenizerPath == null ? null : Tokenizers.open(tokenizerPath);
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
        store.writeText("plan.yaml", planText);
        ReplayWorkload replay = null;
        if (plan.workload().replay() != null) {
            PromptEncoder encoder = new PromptEncoder(tokenizer,
                    tokenizerPath == null ? null : ChatTemplates.open(tokenizerPath), config.vocabSize());
            replay = loadReplay(plan.workload().replay(), encoder, prompts, context);
        }

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
                    deployment.start(first, home, model, tokenizer != null, densePlacement, context, logs,
                            routerProperties);
                    for (SweepPoint point : todo) {
                        progress.starting(point.label() + ", repetition " + (rep + 1));
                        List<RequestShape> warmup = shapes(prompts, replay, point, plan.warmupRequests());
                        List<RequestShape> requests = shapes(prompts, replay, point, plan.requests());
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
        return writeOutputs(config, prompts, points, total, loadBefore, replay == null ? null : replay.summary());
    }

    /**
     * Rejects a rerun on saved runs that were measured with other values of the fields in
     * {@link PlanFingerprint}, comparing with the plan.yaml that the earlier run copied to the
     * results directory. Results saved without a plan.yaml are resumed unchecked.
     */
    private void checkSavedPlan() {
        Path savedPlanFile = store.directory().resolve("plan.yaml");
        if (!store.hasSavedRuns() || !Files.isRegularFile(savedPlanFile)) {
            return;
        }
        String fix = "use a new --out directory, or delete " + store.directory() + " to measure every run again";
        ExperimentPlan saved;
        try {
            saved = new PlanParser(home).parse(savedPlanFile);
        } catch (PlanException e) {
            throw new PlanChangedException("The runs saved in " + store.directory() + " were measured with a plan that"
                    + " is no longer valid (" + e.getMessage() + "), so they cannot be resumed: " + fix);
        }
        List<String> changed = PlanFingerprint.differences(saved, plan);
        if (!changed.isEmpty()) {
            throw new PlanChangedException("The runs saved in " + store.directory() + " were measured with another plan,"
                    + " so they cannot be resumed. Changed: " + String.join("; ", changed) + ". To measure the new plan, "
                    + fix + ".");
        }
    }

    /** Reads the records to replay and builds their requests, and prints what became of the records. */
    private ReplayWorkload loadReplay(ExperimentPlan.Replay replay, PromptEncoder encoder, PromptSource corpus,
                                      int context) {
        ReplayWorkload workload;
        if (replay.file() != null) {
            workload = ReplayWorkload.build(RecordedValue.readLines(replay.file()), "file " + replay.file().getFileName(),
                    true, replay.withoutPrompt(), encoder, corpus, context);
        } else {
            KafkaTopicReader.Read read = readKafka(replay.kafka());
            workload = ReplayWorkload.build(read.values(), read.description(), false, replay.withoutPrompt(), encoder,
                    corpus, context);
        }
        ReplaySummary summary = workload.summary();
        console.printf("Replaying %d of %d records from %s: %d with their prompt, %d with corpus prompts of their"
                        + " length; skipped %d without prompt text, %d without a generated token, %d of another"
                        + " schema version, %d invalid%n", summary.replayed(), summary.read(), summary.source(),
                summary.withPrompt(), summary.withLengths(), summary.skippedWithoutPrompt(),
                summary.skippedNoCompletion(), summary.skippedUnknownVersion(), summary.skippedInvalid());
        return workload;
    }

    /** Reads the topic, or on a resumed sweep the records that the first run read and saved the positions of. */
    private KafkaTopicReader.Read readKafka(ExperimentPlan.KafkaTopic topic) {
        ReplayPositions saved = store.readJson(REPLAY_POSITIONS, ReplayPositions.class);
        if (saved != null) {
            if (!saved.topic().equals(topic.topic())) {
                throw new ReplayException(store.directory().resolve(REPLAY_POSITIONS) + " contains positions in the topic "
                        + saved.topic() + ", not " + topic.topic() + "; use a new --out directory for another topic");
            }
            console.printf("Replaying the %d records of %s that this sweep read first (positions in %s)%n",
                    saved.positions().size(), topic.topic(), REPLAY_POSITIONS);
            return KafkaTopicReader.readAgain(topic, saved.positions());
        }
        KafkaTopicReader.Read read = KafkaTopicReader.read(topic);
        store.writeJson(REPLAY_POSITIONS, new ReplayPositions(topic.topic(), topic.bootstrapServers(), read.positions()));
        return read;
    }

    /** Writes the tables, charts and report, and returns the number of runs they contain. */
    private int writeOutputs(ModelConfig config, PromptSource prompts, List<SweepPoint> points, int total,
                              String loadBefore, ReplaySummary replay) {
        List<PointResult> results = resultsOfPlan(points);
        store.writeTables(results);
        List<PointSummary> summaries = PointSummary.of(results);

        List<LocalProbe.Quality> quality = new ArrayList<>();
        long[][] routing = LayerExpertLoad.meshTotal(results);
        if (routing != null) {
            store.writeJson("expert-load.json", routing);
        }
        if (!stopping && plan.quality()) {
            int[] tokens = prompts.synthetic(1, qualitySequenceLength(config, points), 1).getFirst().promptIds();
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
        List<String> charts = Plots.write(store.directory(), summaries, routing, quality);
        MachineInfo machine = MachineInfo.now(loadBefore);
        store.writeText("report.md", Report.render(plan, planText, machine, summaries, results, quality, charts, total,
                replay));
        log.info("Wrote {} runs to {}", results.size(), store.directory());
        return results.size();
    }

    /**
     * Returns the saved runs of the plan's points and repetitions. Runs of axis values, repetitions
     * or baselines removed from the plan since stay in points/ but are left out of the tables and
     * the report.
     */
    private List<PointResult> resultsOfPlan(List<SweepPoint> points) {
        Set<String> ids = points.stream().map(SweepPoint::id).collect(Collectors.toSet());
        List<PointResult> saved = store.load();
        List<PointResult> results = saved.stream()
                .filter(r -> ids.contains(r.pointId()) && r.repetition() < plan.repetitions())
                .toList();
        if (results.size() < saved.size()) {
            console.printf("Left out of the report: %d saved run(s) of points or repetitions no longer in the plan%n",
                    saved.size() - results.size());
        }
        return results;
    }

    /**
     * Returns the tokens of the sequence the index variants are compared on: 64 more than the
     * largest top-k of the model and its variants, so that the indexer leaves keys out, within the
     * context. Up to top-k tokens every key is selected, and sharing the selection changes nothing.
     */
    static int qualitySequenceLength(ModelConfig config, List<SweepPoint> points) {
        int context = Math.min(config.maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        int topk = config.hasIndexer() ? config.indexer().topK() : 0;
        for (SweepPoint point : points) {
            if (point.indexTopk() != null) {
                topk = Math.max(topk, point.indexTopk());
            }
        }
        return Math.min(context, Math.max(64, topk + 64));
    }

    private static List<RequestShape> shapes(PromptSource prompts, ReplayWorkload replay, SweepPoint point, int count) {
        return replay == null ? prompts.synthetic(count, point.promptTokens(), point.outputTokens()) : replay.requests(count);
    }

    /** Points with the same key run on one start of the services. */
    static String deploymentKey(SweepPoint point) {
        String index = point.indexVariant().replace('/', '-');
        return point.kind() == SweepPoint.Kind.ENGINE ? "engine-" + index
                : "mesh-s%d-r%d-a%d-%s%s-%s".formatted(point.shards(), point.replicas(), point.attentionReplicas(),
                point.wireDtype(), point.pingPong() ? "-pingpong" : "", index);
    }

    private static String topologyLabel(SweepPoint point) {
        return point.kind() == SweepPoint.Kind.ENGINE ? "the single-process engine"
                : "the mesh (%d shard(s) x %d replica(s), %d attention replica(s), %s%s)".formatted(point.shards(),
                point.replicas(), point.attentionReplicas(), point.wireDtype(), point.pingPong() ? ", ping-pong" : "");
    }
}
