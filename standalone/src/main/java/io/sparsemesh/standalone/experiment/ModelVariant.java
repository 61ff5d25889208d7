package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.config.ModelConfig;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A model with its index settings overridden for one point: a copy of a Hugging Face folder whose
 * {@code config.json} has another {@code indexer_types} or {@code index_topk}, with every other
 * file symlinked to the original. GGUF and llama2.c files carry their config inside the weights
 * file, so these axes are rejected for them.
 */
public final class ModelVariant {

    private ModelVariant() {
    }

    /** Rejects index axes the model cannot take, naming the axis. */
    public static void check(ExperimentPlan plan, ModelConfig config) {
        boolean fullEvery = plan.axes().indexFullEvery().stream().anyMatch(v -> v != null);
        boolean topk = plan.axes().indexTopk().stream().anyMatch(v -> v != null);
        if (!fullEvery && !topk) {
            return;
        }
        String axis = fullEvery ? "axes.index_full_every" : "axes.index_topk";
        if (!Files.isDirectory(plan.model())) {
            throw new PlanException(axis + " needs a Hugging Face model folder, whose config.json can be patched per"
                    + " point; " + plan.model() + " is a single file (GGUF or llama2.c): remove the axis");
        }
        if (!config.hasIndexer()) {
            throw new PlanException(axis + " needs a model with a lightning indexer; " + plan.model()
                    + " (" + config.architecture() + ") has none: remove the axis");
        }
    }

    /**
     * Returns the model {@code point} serves: the plan's model itself when the point keeps its index
     * settings, else a patched copy written under {@code workDirectory}.
     */
    public static Path forPoint(Path model, SweepPoint point, int layers, Path workDirectory) {
        if (point.indexFullEvery() == null && point.indexTopk() == null) {
            return model;
        }
        Path variant = workDirectory.resolve("model-" + point.indexVariant().replace('/', '-'));
        try {
            Files.createDirectories(variant);
            try (Stream<Path> files = Files.list(model)) {
                for (Path file : files.toList()) {
                    Path link = variant.resolve(file.getFileName());
                    if (!file.getFileName().toString().equals("config.json") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, file.toAbsolutePath());
                    }
                }
            }
            JsonMapper json = JsonMapper.builder().build();
            ObjectNode config = (ObjectNode) json.readTree(model.resolve("config.json").toFile());
            if (point.indexFullEvery() != null) {
                ArrayNode types = config.putArray("indexer_types");
                for (int layer = 0; layer < layers; layer++) {
                    types.add(layer % point.indexFullEvery() == 0 ? "full" : "shared");
                }
                config.remove("index_topk_pattern");
                config.remove("index_topk_freq");
            }
            if (point.indexTopk() != null) {
                config.put("index_topk", point.indexTopk());
            }
            json.writerWithDefaultPrettyPrinter().writeValue(variant.resolve("config.json").toFile(), config);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to write the model variant " + variant + " of " + model, e);
        }
        return variant;
    }
}
