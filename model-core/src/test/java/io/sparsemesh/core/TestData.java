package io.sparsemesh.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

    /**
     * Returns the first {@code chars} characters of a corpus excerpt under {@code testdata/corpus},
     * e.g. {@code tinyshakespeare/input.txt}. The committed excerpts contain only the start of each
     * text, so a longer request fails instead of returning less.
     */
    public static String corpusPrefix(String file, int chars) {
        Path path = path("corpus/" + file);
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read corpus excerpt " + path, e);
        }
        if (text.length() < chars) {
            throw new IllegalArgumentException("corpus excerpt " + path + " has " + text.length()
                    + " characters, fewer than the " + chars + " requested; commit a longer excerpt");
        }
        return text.substring(0, chars);
    }
}
