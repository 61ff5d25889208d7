package io.sparsemesh.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes rendered files as YAML: a comment naming the generator, then one document per object.
 * Map entries are sorted by key, so the same plan always gives the same bytes.
 */
public final class ManifestWriter {

    private final ObjectMapper yaml = Serialization.yamlMapper().copy()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private final String command;

    /** @param command the render command, quoted in every file's head so a reader can re-run it */
    public ManifestWriter(String command) {
        this.command = command;
    }

    /** Returns each file's text by its relative path, in render order. */
    public Map<String, String> toText(List<ManifestFile> files) {
        Map<String, String> texts = new LinkedHashMap<>();
        for (ManifestFile file : files) {
            texts.put(file.path(), text(file));
        }
        return texts;
    }

    String text(ManifestFile file) {
        StringBuilder text = new StringBuilder();
        text.append("# ").append(file.comment()).append('\n');
        text.append("# Rendered by deploy-tools: ").append(command).append('\n');
        text.append("# Do not edit: change the renderer (deploy-tools/) and render again.\n");
        for (Object object : file.objects()) {
            try {
                String document = yaml.writeValueAsString(object);
                text.append(document.startsWith("---") ? document : "---\n" + document);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write " + object.getClass().getSimpleName() + " of " + file.path(), e);
            }
        }
        return text.toString();
    }

    /**
     * Writes the files under {@code root}, after deleting the YAML files a previous render left
     * there, so that a render with fewer shards leaves no stale shard behind.
     */
    public void write(Path root, List<ManifestFile> files) {
        try {
            if (Files.isDirectory(root)) {
                try (Stream<Path> old = Files.walk(root)) {
                    for (Path path : old.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                        Files.delete(path);
                    }
                }
            }
            for (Map.Entry<String, String> entry : toText(files).entrySet()) {
                Path path = root.resolve(entry.getKey());
                Files.createDirectories(path.getParent());
                Files.writeString(path, entry.getValue(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the manifests under " + root + ": " + e.getMessage(), e);
        }
    }
}
