package io.sparsemesh.core.gqa;

import io.sparsemesh.core.attention.LayerCache;

import java.util.Arrays;

/**
 * Keys and values of one GQA layer for one sequence: {@code kvDim = numKvHeads · headDim} floats
 * per token each. Storage grows on demand up to {@code capacity} tokens, so short sequences do
 * not pay for the whole context.
 */
final class KvCache implements LayerCache {

    private final int kvDim;
    private final int capacity;
    private float[] keys;   // [tokens, kvDim]
    private float[] values; // [tokens, kvDim]

    KvCache(int kvDim, int capacity) {
        this.kvDim = kvDim;
        this.capacity = capacity;
        int initialTokens = Math.min(capacity, 64);
        this.keys = new float[initialTokens * kvDim];
        this.values = new float[initialTokens * kvDim];
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long byteSize() {
        return 4L * (keys.length + values.length);
    }

    float[] keys() {
        return keys;
    }

    float[] values() {
        return values;
    }

    /** Stores the key and value of {@code position}, copied from {@code k[kOffset..]} and {@code v[vOffset..]}. */
    void store(int position, float[] k, int kOffset, float[] v, int vOffset) {
        if (position >= capacity) {
            throw new IllegalStateException("position " + position + " is past this sequence's cache capacity "
                    + capacity + " tokens");
        }
        ensureTokens(position + 1);
        System.arraycopy(k, kOffset, keys, position * kvDim, kvDim);
        System.arraycopy(v, vOffset, values, position * kvDim, kvDim);
    }

    private void ensureTokens(int tokens) {
        if (tokens * kvDim <= keys.length) {
            return;
        }
        int grown = Math.min(capacity, Math.max(tokens, 2 * keys.length / kvDim));
        keys = Arrays.copyOf(keys, grown * kvDim);
        values = Arrays.copyOf(values, grown * kvDim);
    }
}
