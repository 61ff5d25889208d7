package io.sparsemesh.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul over weights that are already floats in a heap array: the weights of a
 * {@link FloatMatrix}, or a panel of rows that a {@link MappedMatrix} has decoded.
 *
 * <p>Register tiles cover two weight rows and four x rows ({@link #dot2x4}): each weight vector is
 * loaded once for four FMAs and each x vector once for two, six loads per eight FMAs, which keeps
 * the FMA units rather than the load ports busy. Every {@code (row, x row)} pair is summed in the
 * same order whatever the tile, batch size or thread split, so results are bitwise reproducible.
 */
final class FloatTiles {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int BATCH_TILE = 4;

    private FloatTiles() {
    }

    /**
     * Returns how many weight rows to handle as one panel. With four or more x rows, a panel of
     * about {@link ScratchPool#PANEL_FLOATS} floats meets every x tile before the next panel
     * starts, so the panel stays in L2 and each group of four x rows in L1. With fewer x rows
     * each weight is used at most three times, so two rows at a time suffice.
     */
    static int panelRows(int batch, int cols) {
        if (batch < BATCH_TILE) {
            return 2;
        }
        return Math.max(2, ScratchPool.PANEL_FLOATS / cols & ~1);
    }

    /**
     * Computes rows {@code [firstRow, firstRow + panelRows)} of the output from the panel of
     * weights stored row-major from {@code w[wOffset]}: {@code out[outOffset + b·rows + r]} for
     * every {@code b < batch}, where {@code rows} is the full matrix's row count.
     */
    static void matmulPanel(float[] w, int wOffset, int firstRow, int panelRows, int rows, int cols,
                            float[] x, int xOffset, float[] out, int outOffset, int batch, float[] partials) {
        int last = firstRow + panelRows - 1;
        int b = 0;
        for (; b + BATCH_TILE <= batch; b += BATCH_TILE) {
            for (int r = firstRow; r <= last; r += 2) {
                // An odd last row is paired with itself; both writes store the same sums.
                int r1 = Math.min(r + 1, last);
                int o = outOffset + b * rows;
                dot2x4(w, wOffset + (r - firstRow) * cols, wOffset + (r1 - firstRow) * cols, cols,
                        x, xOffset + b * cols, out, o + r, o + r1, rows, partials);
            }
        }
        for (; b < batch; b++) {
            for (int r = firstRow; r <= last; r += 2) {
                int r1 = Math.min(r + 1, last);
                int o = outOffset + b * rows;
                dot2x1(w, wOffset + (r - firstRow) * cols, wOffset + (r1 - firstRow) * cols, cols,
                        x, xOffset + b * cols, out, o + r, o + r1);
            }
        }

        int tail = F.loopBound(cols);
        if (tail < cols) {
            for (b = 0; b < batch; b++) {
                for (int r = firstRow; r <= last; r++) {
                    int wRow = wOffset + (r - firstRow) * cols;
                    out[outOffset + b * rows + r] += Kernels.dot(w, wRow + tail, x, xOffset + b * cols + tail, cols - tail);
                }
            }
        }
    }

    /**
     * Writes the dot products of weight rows {@code w[w0 ..)} and {@code w[w1 ..)}, over the
     * columns that whole vectors cover, with four x rows from {@code x[x0]}, {@code cols} apart, to
     * {@code out[o0 + b·stride]} and {@code out[o1 + b·stride]}.
     */
    private static void dot2x4(float[] w, int w0, int w1, int cols, float[] x, int x0,
                               float[] out, int o0, int o1, int stride, float[] partials) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;

        for (int c = 0; c < F.loopBound(cols); c += F.length()) {
            FloatVector u = FloatVector.fromArray(F, w, w0 + c);
            FloatVector v = FloatVector.fromArray(F, w, w1 + c);
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a00 = u.fma(y, a00);
            a10 = v.fma(y, a10);
            y = FloatVector.fromArray(F, x, x1 + c);
            a01 = u.fma(y, a01);
            a11 = v.fma(y, a11);
            y = FloatVector.fromArray(F, x, x2 + c);
            a02 = u.fma(y, a02);
            a12 = v.fma(y, a12);
            y = FloatVector.fromArray(F, x, x3 + c);
            a03 = u.fma(y, a03);
            a13 = v.fma(y, a13);
        }

        int n = F.length();
        a00.intoArray(partials, 0);
        a10.intoArray(partials, n);
        a01.intoArray(partials, 2 * n);
        a11.intoArray(partials, 3 * n);
        a02.intoArray(partials, 4 * n);
        a12.intoArray(partials, 5 * n);
        a03.intoArray(partials, 6 * n);
        a13.intoArray(partials, 7 * n);
        Lanes.sumTile(partials, out, o0, o1, stride);
    }

    /** Same as {@link #dot2x4} for the single x row at {@code x[x0]}. */
    private static void dot2x1(float[] w, int w0, int w1, int cols, float[] x, int x0, float[] out, int o0, int o1) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int c = 0; c < F.loopBound(cols); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(y, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(y, a1);
        }
        out[o0] = Lanes.sum(a0);
        out[o1] = Lanes.sum(a1);
    }
}
