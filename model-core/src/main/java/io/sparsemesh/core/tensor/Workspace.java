package io.sparsemesh.core.tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Scratch buffers owned by one caller thread (an engine step loop, a service stream) and lent to
 * the layers it runs, so that the hot path allocates only when a batch is larger than any before.
 *
 * <p>Each layer class names its buffers with constants of a private enum, so buffers of different
 * classes never collide; instances of one class share them because layers run one after another.
 * A workspace is not thread-safe.
 */
public final class Workspace {

    private final Map<Enum<?>, float[]> floats = new IdentityHashMap<>();
    private final Map<Enum<?>, int[]> ints = new IdentityHashMap<>();

    /** Returns the float buffer {@code key}, at least {@code minLength} long; its contents are undefined. */
    public float[] floats(Enum<?> key, int minLength) {
        float[] buffer = floats.get(key);
        if (buffer == null || buffer.length < minLength) {
            buffer = new float[grow(buffer == null ? 0 : buffer.length, minLength)];
            floats.put(key, buffer);
        }
        return buffer;
    }

    /** Returns the int buffer {@code key}, at least {@code minLength} long; its contents are undefined. */
    public int[] ints(Enum<?> key, int minLength) {
        int[] buffer = ints.get(key);
        if (buffer == null || buffer.length < minLength) {
            buffer = new int[grow(buffer == null ? 0 : buffer.length, minLength)];
            ints.put(key, buffer);
        }
        return buffer;
    }

    private static int grow(int current, int minLength) {
        return Math.max(minLength, current + (current >> 1));
    }
}
