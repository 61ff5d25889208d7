package io.sparsemesh.transport.attention;

/**
 * The decoder layers {@code [first, end)} that one attention replica serves.
 *
 * @param first the first layer served
 * @param end   one past the last layer served
 */
public record LayerRange(int first, int end) {

    public LayerRange {
        if (first < 0 || end <= first) {
            throw new IllegalArgumentException("invalid layer range [" + first + ", " + end
                    + "): it needs 0 <= first < end");
        }
    }

    /** Returns the range of every layer of a model with {@code numLayers} layers. */
    public static LayerRange all(int numLayers) {
        return new LayerRange(0, numLayers);
    }

    public boolean contains(int layer) {
        return layer >= first && layer < end;
    }

    /** Returns the last layer served, {@code end - 1}. */
    public int last() {
        return end - 1;
    }

    public int size() {
        return end - first;
    }

    @Override
    public String toString() {
        return "[" + first + ", " + end + ")";
    }
}
