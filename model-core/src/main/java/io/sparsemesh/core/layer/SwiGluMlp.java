package io.sparsemesh.core.layer;

import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

/**
 * The SwiGLU feed-forward block: {@code down(silu(gate(x)) ⊙ up(x))}. A Llama MLP, a DeepSeek
 * dense layer, one routed expert and the shared experts are all this block.
 */
public final class SwiGluMlp {

    private enum Buffer { GATE, UP }

    private final Matrix gateProj; // [intermediate, hidden]
    private final Matrix upProj;   // [intermediate, hidden]
    private final Matrix downProj; // [hidden, intermediate]

    public SwiGluMlp(Matrix gateProj, Matrix upProj, Matrix downProj) {
        if (gateProj.rows() != upProj.rows() || gateProj.cols() != upProj.cols()
                || downProj.cols() != gateProj.rows() || downProj.rows() != gateProj.cols()) {
            throw new IllegalArgumentException("inconsistent SwiGLU shapes: gate " + gateProj.rows() + "x"
                    + gateProj.cols() + ", up " + upProj.rows() + "x" + upProj.cols() + ", down "
                    + downProj.rows() + "x" + downProj.cols());
        }
        this.gateProj = gateProj;
        this.upProj = upProj;
        this.downProj = downProj;
    }

    public int hiddenSize() {
        return gateProj.cols();
    }

    public int intermediateSize() {
        return gateProj.rows();
    }

    public long byteSize() {
        return gateProj.byteSize() + upProj.byteSize() + downProj.byteSize();
    }

    /** Scratch arrays for {@code rows} rows; reuse them across calls to allocate nothing per step. */
    public Scratch newScratch(int rows) {
        return new Scratch(new float[rows * intermediateSize()], new float[rows * intermediateSize()]);
    }

    /** Computes the block for {@code rows} rows of {@code x} into {@code out}. */
    public void forward(float[] x, int xOffset, float[] out, int outOffset, int rows, Scratch scratch) {
        float[] gate = scratch.gate();
        float[] up = scratch.up();

        gateProj.matmul(x, xOffset, gate, 0, rows);
        upProj.matmul(x, xOffset, up, 0, rows);

        int n = rows * intermediateSize();
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }

        downProj.matmul(gate, 0, out, outOffset, rows);
    }

    /** Computes the block for {@code rows} rows, borrowing its temporaries from {@code workspace}. */
    public void forward(float[] x, int xOffset, float[] out, int outOffset, int rows, Workspace workspace) {
        int n = rows * intermediateSize();
        forward(x, xOffset, out, outOffset, rows,
                new Scratch(workspace.floats(Buffer.GATE, n), workspace.floats(Buffer.UP, n)));
    }

    /** Per-caller buffers of at least {@code rows × intermediate} floats. */
    public record Scratch(float[] gate, float[] up) {
    }
}
