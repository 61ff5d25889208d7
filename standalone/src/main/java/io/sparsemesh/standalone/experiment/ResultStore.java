package io.sparsemesh.standalone.experiment;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The results directory of a sweep. Each measured repetition of a point is written at once to
 * {@code points/<point id>-rep<k>.json} through a temporary file and a rename, so an interrupted
 * write leaves no partial result. A rerun skips the repetitions found there, which is how a sweep
 * resumes. {@code results.csv} and {@code results.json} are rebuilt from those files.
 */
public final class ResultStore {

    private final Path directory;
    /**
     * Results saved before a field existed read that field as null, or as false or 0 for a primitive
     * (ping-pong was off in those runs).
     */
    private final JsonMapper json = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    public ResultStore(Path directory) {
        this.directory = directory;
        try {
            Files.createDirectories(directory.resolve("points"));
        } catch (IOException e) {
            throw new UncheckedIOException("failed to create the results directory " + directory, e);
        }
    }

    public Path directory() {
        return directory;
    }

    public boolean contains(SweepPoint point, int repetition) {
        return Files.isRegularFile(pointFile(point.id(), repetition));
    }

    /** Returns whether any run is saved in points/. */
    public boolean hasSavedRuns() {
        try (Stream<Path> files = Files.list(directory.resolve("points"))) {
            return files.anyMatch(f -> f.toString().endsWith(".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("failed to list the results in " + directory, e);
        }
    }

    public void save(PointResult result) {
        write(pointFile(result.pointId(), result.repetition()), json.writeValueAsString(result));
    }

    /** Returns every saved repetition, ordered by point id and repetition. */
    public List<PointResult> load() {
        List<PointResult> results = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory.resolve("points"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                results.add(json.readValue(file.toFile(), PointResult.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the results in " + directory, e);
        }
        results.sort(Comparator.comparing(PointResult::pointId).thenComparingInt(PointResult::repetition));
        return results;
    }

    /** Rewrites results.csv and results.json from the saved repetitions. */
    public void writeTables(List<PointResult> results) {
        write(directory.resolve("results.json"), json.writeValueAsString(results));
        write(directory.resolve("results.csv"), csv(results));
    }

    /** Writes {@code text} to {@code name} in the results directory. */
    public void writeText(String name, String text) {
        write(directory.resolve(name), text);
    }

    public void writeJson(String name, Object value) {
        write(directory.resolve(name), json.writeValueAsString(value));
    }

    /** Reads {@code name} in the results directory as {@code type}, or returns null when there is no such file. */
    public <T> T readJson(String name, Class<T> type) {
        Path file = directory.resolve(name);
        return Files.isRegularFile(file) ? json.readValue(file.toFile(), type) : null;
    }

    static final String CSV_HEADER = "point,kind,shards,replicas,attention_replicas,wire_dtype,ping_pong,index_variant,load,"
            + "prompt_tokens,output_tokens,repetition,requests,errors,wall_s,output_tokens_per_s,requests_per_s,"
            + "ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,step_ms,hop_ms,"
            + "attention_hop_ms,expert_hop_ms,attention_call_ms,expert_call_ms,hop_overhead_ms,indexer_runs,indexer_reuses,kv_bytes_per_token,"
            + "expert_imbalance,shard_imbalance,expert_tokens,shard_tokens,cpu_s,rss_mb,bottleneck,load_average_1m";

    static String csv(List<PointResult> results) {
        StringBuilder out = new StringBuilder(CSV_HEADER).append('\n');
        for (PointResult r : results) {
            List<String> cells = new ArrayList<>(List.of(r.pointId(), r.kind(), Integer.toString(r.shards()),
                    Integer.toString(r.replicas()), Integer.toString(r.attentionReplicas()), r.wireDtype(),
                    Boolean.toString(r.pingPong()), r.indexVariant(), number(r.load()), Integer.toString(r.promptTokens()),
                    Integer.toString(r.outputTokens()), Integer.toString(r.repetition()), Integer.toString(r.requests()),
                    Integer.toString(r.errors())));
            for (double value : new double[]{r.wallSeconds(), r.outputTokensPerSecond(), r.requestsPerSecond(),
                    r.ttftP50(), r.ttftP90(), r.ttftP99(), r.tpotP50(), r.tpotP90(), r.tpotP99(), r.stepMs(), r.hopMs(),
                    r.attentionHopMs(), r.expertHopMs(),
                    r.attentionCallMs(), r.expertCallMs(), r.hopOverheadMs(), r.indexerRuns(), r.indexerReuses(),
                    r.kvBytesPerToken(), r.expertImbalance(), r.shardImbalance()}) {
                cells.add(number(value));
            }
            cells.add(joined(r.expertTokens()));
            cells.add(joined(r.shardTokens()));
            cells.add(r.components().stream().map(c -> c.name() + "=" + number(c.cpuSeconds())).collect(Collectors.joining(";")));
            cells.add(r.components().stream().map(c -> c.name() + "=" + number(c.residentBytes() / 1048576.0))
                    .collect(Collectors.joining(";")));
            cells.add(r.bottleneck());
            cells.add(r.loadAverage() == null ? "" : number(r.loadAverage()));
            out.append(String.join(",", cells)).append('\n');
        }
        return out.toString();
    }

    private static String joined(double[] values) {
        return Arrays.stream(values).mapToObj(ResultStore::number).collect(Collectors.joining(";"));
    }

    static String number(double value) {
        if (Double.isNaN(value)) {
            return "";
        }
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.4g", value);
    }

    private Path pointFile(String id, int repetition) {
        return directory.resolve("points").resolve(id + "-rep" + repetition + ".json");
    }

    private static void write(Path file, String text) {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to write " + file, e);
        }
    }
}
