package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/** Mapped BF16 weights, widened to floats by a 16-bit shift. */
final class Bf16Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    Bf16Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.BF16, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Bf16Matrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        int c = 0;
        for (; c < F.loopBound(count); c += F.length()) {
            ShortVector halves = ShortVector.fromMemorySegment(Lanes.SHORTS, weights, offset + 2L * c, Lanes.ORDER);
            Lanes.bf16ToFloat(halves).intoArray(dst, dstOffset + c);
        }
        for (; c < count; c++) {
            dst[dstOffset + c] = Float.intBitsToFloat(weights.get(Dequantize.I16_LE, offset + 2L * c) << 16);
        }
    }
}
