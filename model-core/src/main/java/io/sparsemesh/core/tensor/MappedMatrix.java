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

    @Override
    void matmulRows(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow) {
        ScratchPool.Scratch scratch = ScratchPool.take();
        try {
            for (int firstCol = 0; firstCol < cols; firstCol += FloatTiles.CHUNK_COLS) {
                int width = Math.min(FloatTiles.CHUNK_COLS, cols - firstCol);
                long chunkOffset = dtype.bytesFor(firstCol);
                int panelRows = FloatTiles.panelRows(batch, width);
                for (int first = fromRow; first < toRow; first += panelRows) {
                    int count = Math.min(panelRows, toRow - first);
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

    /** Decodes the block that holds the element with the scalar decoder; allocates one block of floats. */
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
