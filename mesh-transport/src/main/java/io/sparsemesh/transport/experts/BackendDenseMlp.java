package io.sparsemesh.transport.experts;

import io.sparsemesh.core.engine.ChannelMixer;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.tensor.Workspace;

/** A dense layer's FFN run by an {@link ExpertBackend}, on the expert shard that hosts it. */
public final class BackendDenseMlp implements ChannelMixer {

    private final int layer;
    private final ExpertBackend experts;

    public BackendDenseMlp(int layer, ExpertBackend experts) {
        this.layer = layer;
        this.experts = experts;
    }

    @Override
    public void forward(float[] input, float[] output, int rows, Workspace workspace) {
        experts.forwardDense(layer, input, rows, output);
    }

    /** No weights here: they live on the expert shard. */
    @Override
    public long weightBytes() {
        return 0;
    }
}
