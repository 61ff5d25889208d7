package io.sparsemesh.attention;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the bundled stories260K model and the committed tiny Hugging Face checkpoints. */
final class TestModels {

    private TestModels() {
    }

    /** Returns the repository root: the first folder above the working directory with {@code testdata/} and {@code models/}. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("testdata")) && Files.isDirectory(dir.resolve("models"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
    }

    static Path stories() {
        return root().resolve("models/stories260K/stories260K.gguf");
    }

    static Path glm() {
        return root().resolve("testdata/hf-tiny/glm_moe_dsa_tiny_b");
    }

    /**
     * Writes a copy of the GLM checkpoint into {@code dir} whose indexer layers are FULL, SHARED, FULL, so
     * that layer 1 reuses layer 0's top-k.
     */
    static Path glmWithSharedIndexer(Path dir) {
        try {
            Path source = glm();
            String config = Files.readString(source.resolve("config.json"));
            String shared = config.replaceFirst("\"indexer_types\": \\[\\s*\"full\",\\s*\"full\",\\s*\"full\"\\s*]",
                    "\"indexer_types\": [\"full\", \"shared\", \"full\"]");
            if (shared.equals(config)) {
                throw new IllegalStateException("indexer_types in " + source + "/config.json is not [full, full, full]");
            }
            Files.writeString(dir.resolve("config.json"), shared);
            Files.copy(source.resolve("model.safetensors"), dir.resolve("model.safetensors"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
