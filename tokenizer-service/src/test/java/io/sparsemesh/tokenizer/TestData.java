package io.sparsemesh.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the bundled model, found by walking up from the working directory to the repository root. */
final class TestData {

    private TestData() {
    }

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

    static Path storiesGguf() {
        return root().resolve("models/stories260K/stories260K.gguf");
    }
}
