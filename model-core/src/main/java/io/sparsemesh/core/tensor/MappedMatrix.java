package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A matrix over little-endian, row-major bytes of one {@link DType}, usually a memory-mapped
 * checkpoint. Each subclass decodes its stored type to floats ({@link #decode}). A matmul decodes
 * a panel of rows, one column chunk at a time, into borrowed scratch, then runs the float tiles of
 * {@link FloatTiles} over it for the whole batch, so each weight is decoded once per call.
 */
abstract class MappedMatrix extends AbstractMatrix {

    /** Exactly {@code rows · rowBytes} bytes. */
    final MemorySegment weights;
    final int rows;
    final int cols;
    final long rowBytes;
    private final DType dtype;
    private final boolean parallelSafe;

    MappedMatrix(DType dtype, MemorySegment weights, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("matrix shape must not be negative, got " + rows + "x" + cols);
        }
        if (cols % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("a row of " + cols + " " + dtype + " elements is not a whole number of "
                    + dtype.blockSize() + "-element blocks; " + dtype + " matrices need cols divisible by "
                    + dtype.blockSize());
        }
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = dtype.bytesFor(cols);
        long expected = rowBytes * rows;
        if (weights.byteSize() < expected) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " " + dtype + " matrix needs " + expected
                    + " bytes, the segment has " + weights.byteSize());
        }
        this.weights = weights.asSlice(0, expected);
        this.parallelSafe = KernelPool.shared().canShare(weights);
    }

    /** Returns a matrix of the same class over {@code rows} rows stored in {@code weights}. */
    abstract MappedMatrix withRows(MemorySegment weights, int rows);

    /**
     * Decodes {@code count} elements that start at byte {@code offset} into {@code dst[dstOffset ..)}.
     * {@code offset} starts a block and {@code count} is whole blocks.
     */
    abstract void decode(long offset, int count, float[] dst, int dstOffset);

    /**
     * Returns whether {@link #dot4x1} reads this type in place. Below a full tile each weight is
     * used at most three times. Reading in place keeps memory loads in flight during the FMAs,
     * where decoding first would leave memory idle while the FMAs run.
     */
    boolean readsInPlace() {
        return false;
    }

    /**
     * Stores in vectors 0 to 3 of {@code partials} the accumulators of weight rows {@code r0} to
     * {@code r3} times {@code x[x0 ..)}, over the {@code width} columns from {@code firstCol}
     * that whole vectors cover. Rows may repeat. The lane sums must equal those of
     * {@link FloatTiles} on the decoded rows, bit for bit.
     */
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] partials) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not read weights in place");
    }

    @Override
    void matmulRows(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow) {
        ScratchPool.Scratch scratch = ScratchPool.take();
        try {
            if (batch < FloatTiles.BATCH_TILE && readsInPlace()) {
                matvecInPlace(x, xOffset, out, outOffset, batch, fromRow, toRow, scratch.partials);
                return;
            }
            int panelRows = FloatTiles.panelRows(batch, Math.min(cols, FloatTiles.CHUNK_COLS));
            for (int first = fromRow; first < toRow; first += panelRows) {
                int count = Math.min(panelRows, toRow - first);
                // Chunks inside panels, so that each row is read front to back, as the prefetcher expects.
                for (int firstCol = 0; firstCol < cols; firstCol += FloatTiles.CHUNK_COLS) {
                    int width = Math.min(FloatTiles.CHUNK_COLS, cols - firstCol);
                    long chunkOffset = dtype.bytesFor(firstCol);
                    for (int p = 0; p < count; p++) {
                        decode((first + p) * rowBytes + chunkOffset, width, scratch.panel, p * width);
                    }
                    FloatTiles.matmulPanel(scratch.panel, 0, width, first, count, width, x, xOffset + firstCol, cols,
                            out, outOffset, rows, batch, firstCol > 0, scratch.partials);
                }
            }
        } finally {
            ScratchPool.give(scratch);
        }
    }

    /**
     * Computes rows {@code [fromRow, toRow)} with {@link #dot4x1}, four rows at a time: four
     * streams of weights keep more memory loads in flight than one or two.
     */
    private void matvecInPlace(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow,
                               float[] partials) {
        int last = toRow - 1;
        int lastWidth = cols - (cols - 1) / FloatTiles.CHUNK_COLS * FloatTiles.CHUNK_COLS;
        int tailCol = cols - lastWidth + FloatTiles.vectorCols(lastWidth);
        for (int r = fromRow; r <= last; r += 4) {
            int r1 = Math.min(r + 1, last);
            int r2 = Math.min(r + 2, last);
            int r3 = Math.min(r + 3, last);
            for (int firstCol = 0; firstCol < cols; firstCol += FloatTiles.CHUNK_COLS) {
                int width = Math.min(FloatTiles.CHUNK_COLS, cols - firstCol);
                for (int b = 0; b < batch; b++) {
                    int o = outOffset + b * rows;
                    dot4x1(r, r1, r2, r3, firstCol, width, x, xOffset + b * cols + firstCol, partials);
                    Lanes.storeSums(partials, out, o + r, o + r1, o + r2, o + r3, firstCol > 0);
                }
            }
            if (tailCol < cols) {
                // The scalar tail of the last chunk, summed as FloatTiles sums it.
                for (int b = 0; b < batch; b++) {
                    for (int row = r; row <= r3; row++) {
                        out[outOffset + b * rows + row] += Kernels.dot(dtype, weights, row * rowBytes + dtype.bytesFor(tailCol),
                                x, xOffset + b * cols + tailCol, cols - tailCol);
                    }
                }
            }
        }
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public final long byteSize() {
        return weights.byteSize();
    }

    @Override
    final boolean parallelSafe() {
        return parallelSafe;
    }

    /** Decodes the block that contains the element with the scalar decoder; allocates one block of floats. */
    @Override
    public final float get(int row, int col) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(col, cols);
        int block = col / dtype.blockSize();
        float[] decoded = new float[dtype.blockSize()];
        Dequantize.decode(dtype, weights, row * rowBytes + (long) block * dtype.blockBytes(), decoded, 0, decoded.length);
        return decoded[col % dtype.blockSize()];
    }

    @Override
    public final void copyRow(int row, float[] dst, int dstOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(dstOffset, cols, dst.length);
        decode(row * rowBytes, cols, dst, dstOffset);
    }

    @Override
    public final Matrix rowRange(int fromRow, int toRow) {
        Objects.checkFromToIndex(fromRow, toRow, rows);
        return withRows(weights.asSlice(fromRow * rowBytes, (toRow - fromRow) * rowBytes), toRow - fromRow);
    }
}
