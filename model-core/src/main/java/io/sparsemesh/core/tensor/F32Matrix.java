package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Mapped F32 weights; decoding a row is a copy. */
final class F32Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    F32Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.F32, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new F32Matrix(weights, rows, cols);
    }

    @Override
    boolean readsInPlace() {
        return true;
    }

    @Override
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] out, int o,
                boolean accumulate) {
        long at = 4L * firstCol;
        long w0 = r0 * rowBytes + at;
        long w1 = r1 * rowBytes + at;
        long w2 = r2 * rowBytes + at;
        long w3 = r3 * rowBytes + at;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < F.loopBound(width); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = load(w0 + 4L * c).fma(y, a0);
            a1 = load(w1 + 4L * c).fma(y, a1);
            a2 = load(w2 + 4L * c).fma(y, a2);
            a3 = load(w3 + 4L * c).fma(y, a3);
        }
        Lanes.storeSums(a0, a1, a2, a3, out, o + r0, o + r1, o + r2, o + r3, accumulate);
    }

    private FloatVector load(long offset) {
        return FloatVector.fromMemorySegment(F, weights, offset, Lanes.ORDER);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        MemorySegment.copy(weights, Dequantize.F32_LE, offset, dst, dstOffset, count);
    }
}
