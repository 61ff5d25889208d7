package io.sparsemesh.core.tensor;

import java.util.Objects;

/** A matrix held as a heap {@code float[]}; used for dequantised weights and for weights derived at load time. */
public final class FloatMatrix extends AbstractMatrix {

    private final float[] data;
    private final int offset;
    private final int rows;
    private final int cols;

    public FloatMatrix(float[] data, int rows, int cols) {
        this(data, 0, rows, cols);
    }

    public FloatMatrix(float[] data, int offset, int rows, int cols) {
        this.data = Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0 || offset < 0 || (long) offset + (long) rows * cols > data.length) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix at offset " + offset
                    + " does not fit in " + data.length + " floats");
        }
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
    }

    public float[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public long byteSize() {
        return 4L * rows * cols;
    }

    @Override
    void matmulRows(float[] x, int xOffset, float[] out, int outOffset, int batch, int fromRow, int toRow) {
        if (KernelBackend.current() == KernelBackend.SCALAR) {
            for (int r = fromRow; r < toRow; r++) {
                for (int b = 0; b < batch; b++) {
                    out[outOffset + b * rows + r] = Kernels.dot(data, offset + r * cols, x, xOffset + b * cols, cols);
                }
            }
            return;
        }
        ScratchPool.Scratch scratch = ScratchPool.take();
        try {
            int panelRows = FloatTiles.panelRows(batch, Math.min(cols, FloatTiles.CHUNK_COLS));
            for (int first = fromRow; first < toRow; first += panelRows) {
                int count = Math.min(panelRows, toRow - first);
                for (int firstCol = 0; firstCol < cols; firstCol += FloatTiles.CHUNK_COLS) {
                    int width = Math.min(FloatTiles.CHUNK_COLS, cols - firstCol);
                    FloatTiles.matmulPanel(data, offset + first * cols + firstCol, cols, first, count, width,
                            x, xOffset + firstCol, cols, out, outOffset, rows, batch, firstCol > 0, scratch.partials);
                }
            }
        } finally {
            ScratchPool.give(scratch);
        }
    }

    @Override
    public float get(int row, int col) {
        return data[offset + row * cols + col];
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        System.arraycopy(data, offset + row * cols, dst, dstOffset, cols);
    }

    @Override
    public Matrix rowRange(int fromRow, int toRow) {
        Objects.checkFromToIndex(fromRow, toRow, rows);
        return new FloatMatrix(data, offset + fromRow * cols, toRow - fromRow, cols);
    }
}
