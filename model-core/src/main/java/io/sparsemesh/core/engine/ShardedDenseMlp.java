package io.sparsemesh.core.engine;

import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.tensor.Workspace;

/**
 * A dense layer's FFN that runs on an expert shard rather than in the router: the dense FFN is
 * treated as one expert that every row visits with weight one.
 */
final class ShardedDenseMlp implements ChannelMixer {

    private final int layer;
    private final ExpertBackend experts;

    ShardedDenseMlp(int layer, ExpertBackend experts) {
        if (experts == null) {
            throw new IllegalArgumentException("layer " + layer + "'s dense FFN is placed on expert shards,"
                    + " but no expert backend was given");
        }
        this.layer = layer;
        this.experts = experts;
    }

    @Override
    public void forward(float[] input, float[] output, int rows, Workspace workspace) {
        experts.forwardDense(layer, input, rows, output);
    }

    @Override
    public long weightBytes() {
        return 0;
    }
}
