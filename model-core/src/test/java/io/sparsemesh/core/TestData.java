package io.sparsemesh.core;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the committed test data ({@code testdata/}) and the bundled model ({@code models/}). */
public final class TestData {

    private TestData() {
    }

    /** The repository root, found by walking up from the working directory to the folder holding {@code testdata/}. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("testdata")) && Files.isDirectory(dir.resolve("models"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
    }

    public static Path path(String relative) {
        return root().resolve("testdata").resolve(relative);
    }

    public static Path storiesGguf() {
        return root().resolve("models/stories260K/stories260K.gguf");
    }

    public static Path storiesBin() {
        return path("stories260K/stories260K.bin");
    }

    public static Path storiesTokenizerBin() {
        return path("stories260K/tok512.bin");
    }

    public static Path storiesTokenizerModel() {
        return path("stories260K/tok512.model");
    }

    public static Path hfTiny(String name) {
        return path("hf-tiny/" + name);
    }
}
