package io.sparsemesh.standalone.experiment;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a YAML experiment plan. Every error names the plan file and the field, e.g.
 * {@code plan.yaml: axes.shards[1] must be an integer >= 1, got "two"}. Relative paths are resolved
 * against the project root. A scalar is accepted wherever a list of values is.
 */
public final class PlanParser {

    static final Path DEFAULT_CORPUS = Path.of("testdata/corpus/tinyshakespeare/input.txt");

    private static final Set<String> TOP_FIELDS = Set.of("name", "model", "repetitions", "warmup_requests", "requests",
            "baseline", "quality", "axes", "workload");
    private static final Set<String> AXIS_FIELDS = Set.of("shards", "replicas", "attention_replicas", "wire_dtype",
            "index_full_every", "index_topk", "concurrency", "rate", "prompt_tokens", "output_tokens", "ping_pong");
    private static final Set<String> WORKLOAD_FIELDS = Set.of("arrival", "corpus", "replay");
    private static final Set<String> REPLAY_FIELDS = Set.of("file", "kafka", "without_prompt");
    private static final Set<String> KAFKA_FIELDS = Set.of("bootstrap_servers", "topic", "max_records", "from",
            "properties");
    /** Consumer properties the replay sets itself: the fields above or what reading the records depends on. */
    private static final Set<String> FIXED_CONSUMER_PROPERTIES = Set.of("bootstrap.servers", "key.deserializer",
            "value.deserializer", "enable.auto.commit", "group.id", "allow.auto.create.topics");

    private final Path home;
    private String source;

    /** @param home directory relative paths in the plan are resolved against */
    public PlanParser(Path home) {
        this.home = home;
    }

    public ExperimentPlan parse(Path planFile) {
        source = planFile.getFileName().toString();
        if (!Files.isRegularFile(planFile)) {
            throw new PlanException("plan file " + planFile + " not found");
        }
        JsonNode root;
        try {
            // a key given twice is an error rather than the last value silently winning
            root = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()
                    .readTree(planFile.toFile());
        } catch (JacksonException e) {
            throw new PlanException(source + ": not valid YAML: " + e.getOriginalMessage());
        }
        return parse(root);
    }

    /** Validates an already read plan; {@code sourceName} prefixes the error messages. */
    public ExperimentPlan parse(JsonNode root, String sourceName) {
        source = sourceName;
        return parse(root);
    }

    private ExperimentPlan parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw error("", "the plan must be a YAML mapping with at least name, model and requests");
        }
        checkFields(root, "", TOP_FIELDS);
        String name = requiredText(root, "name");
        Path model = existingPath(requiredText(root, "model"), "model");
        int repetitions = intField(root, "repetitions", 3, 1);
        int warmup = intField(root, "warmup_requests", 4, 0);
        int requests = intField(root, "requests", null, 1);
        boolean baseline = boolField(root, "baseline", true);
        boolean quality = boolField(root, "quality", false);

        JsonNode workloadNode = root.path("workload");
        if (!workloadNode.isMissingNode() && !workloadNode.isObject()) {
            throw error("workload", "must be a mapping with arrival, corpus or replay");
        }
        checkFields(workloadNode, "workload.", WORKLOAD_FIELDS);
        ExperimentPlan.Arrival arrival = arrival(workloadNode.path("arrival"));
        JsonNode corpusNode = workloadNode.path("corpus");
        Path corpus = existingPath(corpusNode.isMissingNode() ? DEFAULT_CORPUS.toString() : text(corpusNode, "workload.corpus"),
                "workload.corpus");
        JsonNode replayNode = workloadNode.path("replay");
        ExperimentPlan.Replay replay = replayNode.isMissingNode() ? null : replay(replayNode, requests);

        JsonNode axesNode = root.path("axes");
        if (axesNode.isMissingNode() || !axesNode.isObject()) {
            throw error("axes", "is missing; give at least axes.concurrency (closed loop) or axes.rate (open loop)");
        }
        checkFields(axesNode, "axes.", AXIS_FIELDS);
        ExperimentPlan.Axes axes = axes(axesNode, arrival, replay != null);
        return new ExperimentPlan(name, model, repetitions, warmup, requests, baseline, quality, axes,
                new ExperimentPlan.Workload(arrival, corpus, replay));
    }

    private ExperimentPlan.Axes axes(JsonNode axes, ExperimentPlan.Arrival arrival, boolean replay) {
        List<Integer> shards = positiveInts(axes, "shards", List.of(1));
        List<Integer> replicas = positiveInts(axes, "replicas", List.of(1));
        List<Integer> attention = positiveInts(axes, "attention_replicas", List.of(1));
        List<String> wire = values(axes, "wire_dtype", List.of("bf16"), (node, field) -> {
            String dtype = node.isString() ? node.asString().toLowerCase(Locale.ROOT) : "";
            if (!dtype.equals("bf16") && !dtype.equals("f32")) {
                throw error(field, "must be bf16 or f32, got " + node);
            }
            return dtype;
        });
        List<Integer> fullEvery = nullablePositiveInts(axes, "index_full_every");
        List<Integer> topk = nullablePositiveInts(axes, "index_topk");
        List<Boolean> pingPong = values(axes, "ping_pong", List.of(false), (node, field) -> {
            if (!node.isBoolean()) {
                throw error(field, "must be true or false, got " + node);
            }
            return node.asBoolean();
        });

        List<Double> load;
        if (arrival == ExperimentPlan.Arrival.CLOSED) {
            if (axes.has("rate")) {
                throw error("axes.rate", "applies to workload.arrival: open only; a closed loop sweeps axes.concurrency");
            }
            load = positiveInts(axes, "concurrency", null).stream().map(Integer::doubleValue).toList();
        } else {
            if (axes.has("concurrency")) {
                throw error("axes.concurrency", "applies to workload.arrival: closed only; an open loop sweeps axes.rate");
            }
            load = values(axes, "rate", null, (node, field) -> {
                if (!node.isNumber() || node.asDouble() <= 0) {
                    throw error(field, "must be a number of requests per second > 0, got " + node);
                }
                return node.asDouble();
            });
        }
        List<Integer> prompt = positiveInts(axes, "prompt_tokens", List.of(32));
        List<Integer> output = positiveInts(axes, "output_tokens", List.of(32));
        if (replay && (axes.has("prompt_tokens") || axes.has("output_tokens"))) {
            throw error(axes.has("prompt_tokens") ? "axes.prompt_tokens" : "axes.output_tokens",
                    "cannot be swept with workload.replay, which takes the lengths from the recorded requests");
        }
        return new ExperimentPlan.Axes(shards, replicas, attention, wire, fullEvery, topk, pingPong, load, prompt, output);
    }

    /** Reads {@code workload.replay}: a file name, or a mapping with {@code file} or {@code kafka}. */
    private ExperimentPlan.Replay replay(JsonNode node, int requests) {
        if (node.isString()) {
            Path file = existingPath(text(node, "workload.replay"), "workload.replay");
            return new ExperimentPlan.Replay(file, null, ExperimentPlan.WithoutPrompt.LENGTHS);
        }
        if (!node.isObject()) {
            throw error("workload.replay", "must be a file name or a mapping with file or kafka, got " + node);
        }
        checkFields(node, "workload.replay.", REPLAY_FIELDS);
        if (node.has("file") == node.has("kafka")) {
            throw error("workload.replay", "must have exactly one of file (a JSONL export) and kafka (the live topic)");
        }
        ExperimentPlan.WithoutPrompt withoutPrompt = switch (node.path("without_prompt").asString("lengths")) {
            case "lengths" -> ExperimentPlan.WithoutPrompt.LENGTHS;
            case "skip" -> ExperimentPlan.WithoutPrompt.SKIP;
            case "fail" -> ExperimentPlan.WithoutPrompt.FAIL;
            default -> throw error("workload.replay.without_prompt", "must be lengths, skip or fail, got "
                    + node.path("without_prompt"));
        };
        if (node.has("file")) {
            Path file = existingPath(text(node.path("file"), "workload.replay.file"), "workload.replay.file");
            return new ExperimentPlan.Replay(file, null, withoutPrompt);
        }
        return new ExperimentPlan.Replay(null, kafka(node.path("kafka"), requests), withoutPrompt);
    }

    private ExperimentPlan.KafkaTopic kafka(JsonNode node, int requests) {
        String prefix = "workload.replay.kafka";
        if (!node.isObject()) {
            throw error(prefix, "must be a mapping with at least bootstrap_servers, got " + node);
        }
        checkFields(node, prefix + ".", KAFKA_FIELDS);
        String servers = requiredText(node, "bootstrap_servers", prefix + ".bootstrap_servers");
        for (String server : servers.split(",")) {
            if (!server.strip().matches("([^:\\s\\[\\]]+|\\[[0-9A-Fa-f:.]+\\]):\\d{1,5}")) {
                throw error(prefix + ".bootstrap_servers", "must be host:port[,host:port...], got \"" + servers + "\"");
            }
        }
        JsonNode topicNode = node.path("topic");
        String topic = topicNode.isMissingNode() ? io.sparsemesh.log.GenerationRecord.TOPIC : text(topicNode, prefix + ".topic");
        int maxRecords = intField(node, "max_records", requests, 1, prefix + ".max_records");
        ExperimentPlan.From from = switch (node.path("from").asString("earliest")) {
            case "earliest" -> ExperimentPlan.From.EARLIEST;
            case "latest" -> ExperimentPlan.From.LATEST;
            default -> throw error(prefix + ".from", "must be earliest or latest, got " + node.path("from"));
        };
        Map<String, String> properties = new java.util.LinkedHashMap<>();
        JsonNode propertiesNode = node.path("properties");
        if (!propertiesNode.isMissingNode()) {
            if (!propertiesNode.isObject()) {
                throw error(prefix + ".properties", "must be a mapping of Kafka consumer properties, got " + propertiesNode);
            }
            for (Map.Entry<String, JsonNode> property : propertiesNode.properties()) {
                String field = prefix + ".properties." + property.getKey();
                if (FIXED_CONSUMER_PROPERTIES.contains(property.getKey())) {
                    throw error(field, "is set by the replay itself; remove it (use bootstrap_servers for the brokers)");
                }
                if (!property.getValue().isValueNode() || property.getValue().isNull()) {
                    throw error(field, "must be a string, number or boolean, got " + property.getValue());
                }
                properties.put(property.getKey(), property.getValue().asString());
            }
        }
        return new ExperimentPlan.KafkaTopic(servers, topic, maxRecords, from, Map.copyOf(properties));
    }

    private ExperimentPlan.Arrival arrival(JsonNode node) {
        if (node.isMissingNode()) {
            return ExperimentPlan.Arrival.CLOSED;
        }
        String value = node.isString() ? node.asString() : "";
        return switch (value) {
            case "closed" -> ExperimentPlan.Arrival.CLOSED;
            case "open" -> ExperimentPlan.Arrival.OPEN;
            default -> throw error("workload.arrival", "must be closed or open, got " + node);
        };
    }

    private interface ValueReader<T> {
        T read(JsonNode node, String field);
    }

    private <T> List<T> values(JsonNode parent, String name, List<T> defaults, ValueReader<T> reader) {
        String field = "axes." + name;
        JsonNode node = parent.path(name);
        if (node.isMissingNode()) {
            if (defaults == null) {
                throw error(field, "is missing");
            }
            return defaults;
        }
        List<T> values = new ArrayList<>();
        if (node.isArray()) {
            if (node.isEmpty()) {
                throw error(field, "must list at least one value");
            }
            for (int i = 0; i < node.size(); i++) {
                T value = reader.read(node.get(i), field + "[" + i + "]");
                if (values.contains(value)) {
                    throw error(field + "[" + i + "]", "repeats the value " + value);
                }
                values.add(value);
            }
        } else {
            values.add(reader.read(node, field));
        }
        return java.util.Collections.unmodifiableList(values);
    }

    private List<Integer> positiveInts(JsonNode axes, String name, List<Integer> defaults) {
        return values(axes, name, defaults, (node, field) -> {
            if (!node.isIntegralNumber() || node.asInt() < 1) {
                throw error(field, "must be an integer >= 1, got " + node);
            }
            return node.asInt();
        });
    }

    /** Integers >= 1 where {@code model} (or null) keeps the model's own setting. */
    private List<Integer> nullablePositiveInts(JsonNode axes, String name) {
        List<Integer> defaults = new ArrayList<>();
        defaults.add(null);
        return values(axes, name, defaults, (node, field) -> {
            if (node.isNull() || (node.isString() && node.asString().equals("model"))) {
                return null;
            }
            if (!node.isIntegralNumber() || node.asInt() < 1) {
                throw error(field, "must be an integer >= 1 or \"model\" (the model's own setting), got " + node);
            }
            return node.asInt();
        });
    }

    private void checkFields(JsonNode node, String prefix, Set<String> known) {
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!known.contains(entry.getKey())) {
                throw error(prefix + entry.getKey(), "is not a known field; expected one of " + known.stream().sorted().toList());
            }
        }
    }

    private String requiredText(JsonNode root, String field) {
        return requiredText(root, field, field);
    }

    /** @param path the field's full name for errors, e.g. {@code workload.replay.kafka.topic} */
    private String requiredText(JsonNode parent, String field, String path) {
        JsonNode node = parent.path(field);
        if (node.isMissingNode() || node.isNull()) {
            throw error(path, "is missing");
        }
        return text(node, path);
    }

    private String text(JsonNode node, String field) {
        if (!node.isString() || node.asString().isBlank()) {
            throw error(field, "must be a non-empty string, got " + node);
        }
        return node.asString();
    }

    private int intField(JsonNode root, String field, Integer defaultValue, int min) {
        return intField(root, field, defaultValue, min, field);
    }

    private int intField(JsonNode parent, String field, Integer defaultValue, int min, String path) {
        JsonNode node = parent.path(field);
        if (node.isMissingNode()) {
            if (defaultValue == null) {
                throw error(path, "is missing");
            }
            return defaultValue;
        }
        if (!node.isIntegralNumber() || node.asInt() < min) {
            throw error(path, "must be an integer >= " + min + ", got " + node);
        }
        return node.asInt();
    }

    private boolean boolField(JsonNode root, String field, boolean defaultValue) {
        JsonNode node = root.path(field);
        if (node.isMissingNode()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw error(field, "must be true or false, got " + node);
        }
        return node.asBoolean();
    }

    private Path existingPath(String value, String field) {
        Path path = home.resolve(value).normalize();
        if (!Files.exists(path)) {
            throw error(field, "names " + path + ", which does not exist (relative paths start at the project root " + home + ")");
        }
        return path;
    }

    private PlanException error(String field, String problem) {
        return new PlanException(source + ": " + (field.isEmpty() ? "" : field + " ") + problem);
    }

}
