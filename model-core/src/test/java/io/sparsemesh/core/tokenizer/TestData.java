package io.sparsemesh.core.tokenizer;

import java.nio.file.Path;

/** Shortcuts from the tokenizer tests to the committed test data of {@link io.sparsemesh.core.TestData}. */
final class TestData {

    private TestData() {
    }

    /**
     * Returns a stories260K file: the GGUF model from {@code models/stories260K/}, anything else
     * (tok512.bin, tok512.model, stories260K.bin) from {@code testdata/stories260K/}.
     */
    static Path stories(String file) {
        return file.endsWith(".gguf")
                ? io.sparsemesh.core.TestData.root().resolve("models/stories260K").resolve(file)
                : io.sparsemesh.core.TestData.path("stories260K/" + file);
    }

    /** Returns the first {@code chars} characters of a corpus excerpt, e.g. {@code tinyshakespeare/input.txt}. */
    static String corpusPrefix(String file, int chars) {
        return io.sparsemesh.core.TestData.corpusPrefix(file, chars);
    }
}
