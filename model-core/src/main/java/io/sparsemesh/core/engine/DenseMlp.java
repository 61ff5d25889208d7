package io.sparsemesh.core.engine;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.tensor.Workspace;

/** A dense SwiGLU MLP as a layer's channel mixer (Llama layers, DeepSeek's leading dense layers). */
public final class DenseMlp implements ChannelMixer {

    private final SwiGluMlp mlp;

    public DenseMlp(SwiGluMlp mlp) {
        this.mlp = mlp;
    }

    /** Loads {@code <prefix>.gate_proj/up_proj/down_proj}, e.g. prefix {@code model.layers.0.mlp}. */
    public static DenseMlp load(TensorStore store, String prefix, int hidden, int intermediate) {
        return new DenseMlp(new SwiGluMlp(
                store.matrix(prefix + ".gate_proj.weight", intermediate, hidden),
                store.matrix(prefix + ".up_proj.weight", intermediate, hidden),
                store.matrix(prefix + ".down_proj.weight", hidden, intermediate)));
    }

    @Override
    public void forward(float[] input, float[] output, int rows, Workspace workspace) {
        mlp.forward(input, 0, output, 0, rows, workspace);
    }

    @Override
    public long weightBytes() {
        return mlp.byteSize();
    }
}
