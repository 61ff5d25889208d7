package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorSpecies;

/** Mapped F16 (IEEE binary16) weights, converted to floats by {@link Lanes#f16ToFloat}. */
final class F16Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    F16Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.F16, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new F16Matrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        int c = 0;
        for (; c < F.loopBound(count); c += F.length()) {
            Lanes.f16ToFloat(weights, offset + 2L * c, dst, dstOffset + c);
        }
        for (; c < count; c++) {
            dst[dstOffset + c] = Float.float16ToFloat(weights.get(Dequantize.I16_LE, offset + 2L * c));
        }
    }
}
