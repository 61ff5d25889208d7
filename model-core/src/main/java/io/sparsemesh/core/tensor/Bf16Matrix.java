package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
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
    boolean readsInPlace() {
        return true;
    }

    @Override
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] out, int o,
                boolean accumulate) {
        long at = 2L * firstCol;
        long w0 = r0 * rowBytes + at;
        long w1 = r1 * rowBytes + at;
        long w2 = r2 * rowBytes + at;
        long w3 = r3 * rowBytes + at;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < F.loopBound(width); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = load(w0 + 2L * c).fma(y, a0);
            a1 = load(w1 + 2L * c).fma(y, a1);
            a2 = load(w2 + 2L * c).fma(y, a2);
            a3 = load(w3 + 2L * c).fma(y, a3);
        }
        Lanes.storeSums(a0, a1, a2, a3, out, o + r0, o + r1, o + r2, o + r3, accumulate);
    }

    private FloatVector load(long offset) {
        return Lanes.bf16ToFloat(ShortVector.fromMemorySegment(Lanes.SHORTS, weights, offset, Lanes.ORDER));
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        int c = 0;
        for (; c < F.loopBound(count); c += F.length()) {
            load(offset + 2L * c).intoArray(dst, dstOffset + c);
        }
        for (; c < count; c++) {
            dst[dstOffset + c] = Float.intBitsToFloat(weights.get(Dequantize.I16_LE, offset + 2L * c) << 16);
        }
    }
}
