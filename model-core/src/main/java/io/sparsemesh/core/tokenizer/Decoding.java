package io.sparsemesh.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Decoding steps that the tokenizers of this package share. */
final class Decoding {

    private Decoding() {
    }

    /**
     * Decodes {@code ids} by concatenating {@link Tokenizer#tokenBytesAfter} of each id, the same
     * bytes a {@link StreamingDecoder} emits; invalid UTF-8 becomes U+FFFD.
     */
    static String concatenateTokenBytes(Tokenizer tokenizer, int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int previousId = -1;
        for (int id : ids) {
            bytes.writeBytes(tokenizer.tokenBytesAfter(previousId, id));
            previousId = id;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Returns {@code id} when it is a valid id for a vocabulary of {@code vocabSize} tokens.
     *
     * @throws IllegalArgumentException naming the id and the valid range otherwise
     */
    static int checkId(int id, int vocabSize) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("token id " + id + " is out of range: the vocabulary has "
                    + vocabSize + " tokens (ids 0 to " + (vocabSize - 1) + ")");
        }
        return id;
    }
}
