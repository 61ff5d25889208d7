package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;

/** Mapped F32 weights; decoding a row is a copy. */
final class F32Matrix extends MappedMatrix {

    F32Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.F32, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new F32Matrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        MemorySegment.copy(weights, Dequantize.F32_LE, offset, dst, dstOffset, count);
    }
}
