package io.sparsemesh.core.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared read-only data (stories260K tokenizers, text corpora) for tests. */
final class TestData {

    private TestData() {
    }

    /**
     * The data folder: system property {@code sparsemesh.data} when set, else the first
     * {@code shared/data} found walking up from the working directory, else /work/shared/data.
     */
    static Path dataDir() {
        String configured = System.getProperty("sparsemesh.data");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("data");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return Path.of("/work/shared/data");
    }

    static Path stories(String file) {
        return dataDir().resolve("models").resolve("stories260K").resolve(file);
    }

    /** Returns the first {@code chars} characters of a corpus file, e.g. {@code tinyshakespeare/input.txt}. */
    static String corpusPrefix(String file, int chars) {
        try {
            String text = Files.readString(dataDir().resolve("corpus").resolve(file), StandardCharsets.UTF_8);
            return text.substring(0, Math.min(chars, text.length()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
