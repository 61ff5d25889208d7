package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Mapped F32 weights; decoding is a copy, and a matvec reads the weights in place. */
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
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] partials) {
        long w0 = r0 * rowBytes + 4L * firstCol;
        long w1 = r1 * rowBytes + 4L * firstCol;
        long w2 = r2 * rowBytes + 4L * firstCol;
        long w3 = r3 * rowBytes + 4L * firstCol;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < F.loopBound(width); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromMemorySegment(F, weights, w0 + 4L * c, Lanes.ORDER).fma(y, a0);
            a1 = FloatVector.fromMemorySegment(F, weights, w1 + 4L * c, Lanes.ORDER).fma(y, a1);
            a2 = FloatVector.fromMemorySegment(F, weights, w2 + 4L * c, Lanes.ORDER).fma(y, a2);
            a3 = FloatVector.fromMemorySegment(F, weights, w3 + 4L * c, Lanes.ORDER).fma(y, a3);
        }
        a0.intoArray(partials, 0);
        a1.intoArray(partials, F.length());
        a2.intoArray(partials, 2 * F.length());
        a3.intoArray(partials, 3 * F.length());
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        MemorySegment.copy(weights, Dequantize.F32_LE, offset, dst, dstOffset, count);
    }
}
