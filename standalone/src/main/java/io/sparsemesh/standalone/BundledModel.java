package io.sparsemesh.standalone;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the model committed with the project, used when no {@code --model} is given. */
final class BundledModel {

    /** Relative to the project root, which {@code ./sparsemesh} passes as {@code -Dsparsemesh.home}. */
    static final String RELATIVE_PATH = "models/stories260K/stories260K.gguf";

    private BundledModel() {
    }

    static Path path() {
        Path home = Path.of(System.getProperty("sparsemesh.home", "."));
        Path model = home.resolve(RELATIVE_PATH);
        if (!Files.isRegularFile(model)) {
            throw new IllegalStateException("the bundled model " + model + " is missing; run from the project root"
                    + " or pass --model PATH");
        }
        return model;
    }
}
