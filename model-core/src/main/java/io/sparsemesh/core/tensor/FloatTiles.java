package io.sparsemesh.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul over weights that are already floats in a heap array: the weights of a
 * {@link FloatMatrix}, or a panel that a {@link MappedMatrix} has decoded.
 *
 * <p>Register tiles cover two weight rows and four x rows ({@link #dot2x4}): each weight vector is
 * loaded once for four FMAs and each x vector once for two, six loads per eight FMAs, which keeps
 * the FMA units rather than the load ports busy.
 *
 * <p>A matmul walks the rows in panels and each panel's columns in chunks of {@link #CHUNK_COLS}.
 * Each panel chunk meets every group of four x rows before the next starts, so it stays in L2 and
 * the x rows' chunk (16 KiB) in L1. A dot product is the sum, chunk after chunk, of each chunk's
 * lane sums, so every {@code (row, x row)} pair is added in the same order whatever the tile,
 * batch size or thread split, and results are bitwise reproducible.
 */
final class FloatTiles {

    /** Columns per chunk: a multiple of every block size (256 for K-quants) and of every vector length. */
    static final int CHUNK_COLS = 1024;

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    static final int BATCH_TILE = 4;

    private FloatTiles() {
    }

    /** Returns the columns of {@code width} that whole vectors cover; the rest is summed by scalar code. */
    static int vectorCols(int width) {
        return F.loopBound(width);
    }

    /**
     * Returns how many weight rows to decode as one panel of {@code width} columns. With fewer
     * than four x rows each weight is used at most three times, so two rows at a time suffice and
     * stay in L1.
     */
    static int panelRows(int batch, int width) {
        if (batch < BATCH_TILE) {
            return 2;
        }
        return Math.max(2, ScratchPool.PANEL_FLOATS / width & ~1);
    }

    /**
     * Adds the products of a panel with the x rows to the outputs: for each panel row {@code p}
     * (matrix row {@code firstRow + p}) and each {@code b < batch}, the dot product of the
     * {@code width} weights at {@code w[wOffset + p·wStride]} with {@code x[xOffset + b·xStride]}
     * goes to {@code out[outOffset + b·rows + firstRow + p]}, replacing it when {@code accumulate}
     * is false and adding to it otherwise.
     */
    static void matmulPanel(float[] w, int wOffset, int wStride, int firstRow, int panelRows, int width,
                            float[] x, int xOffset, int xStride, float[] out, int outOffset, int rows, int batch,
                            boolean accumulate, float[] partials) {
        int last = panelRows - 1;
        int b = 0;
        for (; b + BATCH_TILE <= batch; b += BATCH_TILE) {
            int o = outOffset + b * rows + firstRow;
            for (int p = 0; p <= last; p += 2) {
                // An odd last row is paired with itself; both writes store the same sums.
                int q = Math.min(p + 1, last);
                dot2x4(w, wOffset + p * wStride, wOffset + q * wStride, width, x, xOffset + b * xStride, xStride,
                        partials);
                Lanes.sumTile(partials, out, o + p, o + q, rows, accumulate);
            }
        }
        for (; b < batch; b++) {
            int o = outOffset + b * rows + firstRow;
            for (int p = 0; p <= last; p += 2) {
                int q = Math.min(p + 1, last);
                dot2x1(w, wOffset + p * wStride, wOffset + q * wStride, width, x, xOffset + b * xStride, partials);
                Lanes.storeSums(partials, out, o + p, o + q, accumulate);
            }
        }

        int tail = F.loopBound(width);
        if (tail < width) {
            for (b = 0; b < batch; b++) {
                for (int p = 0; p <= last; p++) {
                    int wRow = wOffset + p * wStride;
                    out[outOffset + b * rows + firstRow + p] += Kernels.dot(w, wRow + tail, x, xOffset + b * xStride + tail, width - tail);
                }
            }
        }
    }

    /**
     * Stores in {@code partials} the vector accumulators of weight rows {@code w[w0 ..)} and
     * {@code w[w1 ..)} times four x rows from {@code x[x0]}, {@code xStride} apart, over the
     * columns of {@code width} that whole vectors cover. The layout is that of {@link Lanes#sumTile}.
     */
    private static void dot2x4(float[] w, int w0, int w1, int width, float[] x, int x0, int xStride, float[] partials) {
        int x1 = x0 + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;

        for (int c = 0; c < F.loopBound(width); c += F.length()) {
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
    }

    /** Same as {@link #dot2x4} for the single x row at {@code x[x0]}: two accumulators, for {@link Lanes#storeSums}. */
    private static void dot2x1(float[] w, int w0, int w1, int width, float[] x, int x0, float[] partials) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int c = 0; c < F.loopBound(width); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, w0 + c).fma(y, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(y, a1);
        }
        a0.intoArray(partials, 0);
        a1.intoArray(partials, F.length());
    }
}
