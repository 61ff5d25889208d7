package io.sparsemesh.core.mla;

import java.util.Arrays;

/**
 * One fixed-width float row per token position of a sequence, growing on demand up to
 * {@code capacity} tokens so short sequences do not pay for the whole context.
 */
final class TokenRows {

    private static final int INITIAL_TOKENS = 64;

    private final int width;
    private final int capacity;
    private float[] data; // [tokens, width]

    TokenRows(int width, int capacity) {
        this.width = width;
        this.capacity = capacity;
        this.data = new float[Math.min(capacity, INITIAL_TOKENS) * width];
    }

    int width() {
        return width;
    }

    /** Returns the backing array, where token {@code t} starts at {@code t · width}; {@link #store} may replace it. */
    float[] data() {
        return data;
    }

    long byteSize() {
        return 4L * data.length;
    }

    /** Copies {@code width} floats from {@code source[offset..]} into the row of {@code position}. */
    void store(int position, float[] source, int offset) {
        if (position < 0 || position >= capacity) {
            throw new IllegalStateException("position " + position + " is outside this sequence's cache capacity of "
                    + capacity + " tokens");
        }
        ensureTokens(position + 1);
        System.arraycopy(source, offset, data, position * width, width);
    }

    private void ensureTokens(int tokens) {
        if ((long) tokens * width <= data.length) {
            return;
        }
        int grown = Math.min(capacity, Math.max(tokens, 2 * (data.length / Math.max(width, 1))));
        data = Arrays.copyOf(data, grown * width);
    }
}
