package io.sparsemesh.expert;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the repository's bundled model and test checkpoints. */
final class TestModels {

    private TestModels() {
    }

    /** Returns the repository root: the first folder above the working directory holding {@code testdata/} and {@code models/}. */
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

    /** Returns the bundled Llama model (dense, 5 layers). */
    static Path stories() {
        return root().resolve("models/stories260K/stories260K.gguf");
    }

    /** Returns the tiny DeepSeek-V3 checkpoint (MLA, MoE: layer 0 dense, layers 1-3 with 8 routed experts, top-2). */
    static Path deepseekTiny() {
        return root().resolve("testdata/hf-tiny/deepseek_v3_tiny");
    }
}
