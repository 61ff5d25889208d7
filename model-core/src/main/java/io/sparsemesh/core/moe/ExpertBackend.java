package io.sparsemesh.core.moe;

/**
 * Where the feed-forward weights that scale out run: routed experts of MoE layers, and dense FFNs
 * placed on expert shards. In this process ({@link ExpertShard} holding every expert) or on expert services over gRPC.
 *
 * <p>Implementations are safe to call from several threads at once: the two micro-batches of a
 * ping-pong step call them concurrently.
 */
public interface ExpertBackend extends AutoCloseable {

    /**
     * Computes, for each of {@code rows} normalised rows of {@code input}, the sum over its routed
     * experts of {@code weight × expert(row)}, into {@code output} ({@code rows × hidden}).
     */
    void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output);

    /** Computes dense layer {@code layer}'s FFN for {@code rows} normalised rows into {@code output}. */
    void forwardDense(int layer, float[] input, int rows, float[] output);

    @Override
    void close();
}
