package io.sparsemesh.standalone.experiment;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root, the first parent folder with {@code testdata/}. */
final class TestData {

    private TestData() {
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
