package io.sparsemesh.core.engine;

import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;

import java.util.concurrent.atomic.AtomicBoolean;

/** Real experts that, once armed, fail row 0 of the next routed call, as a shard with no replica left would. */
final class FailOnceExperts implements ExpertBackend {

    final AtomicBoolean armed = new AtomicBoolean();
    private final ExpertShard shard;

    FailOnceExperts(ExpertShard shard) {
        this.shard = shard;
    }

    @Override
    public void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output) {
        if (armed.compareAndSet(true, false)) {
            throw new RowsFailedException(new int[] {0}, FailureCode.UNAVAILABLE,
                    "expert shard 0 has no replica left", null);
        }
        shard.forwardRouted(layer, input, rows, routing, output);
    }

    @Override
    public void forwardDense(int layer, float[] input, int rows, float[] output) {
        shard.forwardDense(layer, input, rows, output);
    }

    @Override
    public void close() {
    }
}
