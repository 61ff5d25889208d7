package io.sparsemesh.core.engine;

import io.sparsemesh.core.tensor.Workspace;

/** The channel-mixing half of a decoder layer: a dense MLP or a mixture of experts. */
public interface ChannelMixer {

    /**
     * Computes the mixer for {@code rows} normalised hidden rows of {@code input} into
     * {@code output} (both {@code rows × hidden}), before the residual add.
     */
    void forward(float[] input, float[] output, int rows, Workspace workspace);

    /** Bytes of weights this mixer holds in this process. */
    long weightBytes();
}
