package io.sparsemesh.core.attention;

/**
 * The sequence mixer of one decoder layer. It reads normalised hidden rows and writes the
 * attention output (before the residual add). Every row belongs to one sequence at one position;
 * the layer first stores the keys of all rows in their sequences' caches, then lets each row attend
 * causally over positions {@code 0 .. position} of its own sequence. Rows of one sequence appear
 * in increasing position order, so a prompt chunk is simply several rows of the same sequence.
 */
public interface AttentionLayer {

    /** Layer index in the model. */
    int layerIndex();

    /** Creates this layer's cache for one sequence with room for {@code capacity} tokens. */
    LayerCache newCache(int capacity);

    /** Bytes of weights this layer holds. */
    long weightBytes();

    /**
     * Computes attention for every row of {@code batch}.
     *
     * @param input  normalised hidden states, {@code batch.size() × hidden}
     * @param output attention output, {@code batch.size() × hidden}
     */
    void forward(AttentionBatch batch, float[] input, float[] output);
}
