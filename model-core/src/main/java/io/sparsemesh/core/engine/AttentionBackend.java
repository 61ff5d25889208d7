package io.sparsemesh.core.engine;

/**
 * Where the attention layers of a model run and where each sequence's caches live: in this
 * process ({@link LocalAttention}) or in attention services reached over gRPC.
 *
 * <p>Two steps over disjoint sequences may run at the same time, each driven by one thread from
 * {@link #beginStep} to its last layer: the two micro-batches of a ping-pong step.
 */
public interface AttentionBackend extends AutoCloseable {

    /** Starts one forward step over rows {@code i < rows}: token position {@code positions[i]} of sequence {@code sequenceIds[i]}. */
    AttentionStep beginStep(long[] sequenceIds, int[] positions, int rows);

    /** Frees every cache of {@code sequenceId}; unknown ids are ignored. */
    void release(long sequenceId);

    @Override
    void close();

    /** One step's attention, called once per layer in layer order. */
    interface AttentionStep {

        /** Runs layer {@code layer} on the step's normalised rows {@code input}, writing {@code output}. */
        void forward(int layer, float[] input, float[] output);
    }
}
