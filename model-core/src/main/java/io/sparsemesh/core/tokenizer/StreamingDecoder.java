package io.sparsemesh.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Incremental detokenisation of one sequence. Bytes of a UTF-8 character that is not complete yet
 * are held back until the token that completes it arrives, so no chunk ends inside a character.
 * Each token's bytes come from {@link Tokenizer#tokenBytesAfter} with the token before it, so the
 * chunks of a sequence concatenate to what {@link Tokenizer#decode} returns for it. Not thread-safe.
 */
public class StreamingDecoder {

    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private int previousId = -1;

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds token {@code id} and returns the text it completes (possibly empty). */
    public String push(int id) {
        pending.writeBytes(tokenizer.tokenBytesAfter(previousId, id));
        previousId = id;
        byte[] bytes = pending.toByteArray();
        int complete = Utf8.completePrefixLength(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns what is still held back, with incomplete characters replaced by U+FFFD, and resets. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }
}
