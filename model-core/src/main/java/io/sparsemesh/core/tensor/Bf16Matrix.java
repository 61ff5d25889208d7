package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Mapped BF16 weights, widened to floats by a 16-bit shift; a matvec reads the weights in place. */
final class Bf16Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final VectorSpecies<Short> S = Lanes.SHORTS;
    private static final VectorSpecies<Integer> I = Lanes.INTS;

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
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] partials) {
        long w0 = r0 * rowBytes + 2L * firstCol;
        long w1 = r1 * rowBytes + 2L * firstCol;
        long w2 = r2 * rowBytes + 2L * firstCol;
        long w3 = r3 * rowBytes + 2L * firstCol;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < F.loopBound(width); c += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            // A bfloat16 is the top half of a float: widen each to 32 bits and shift it up.
            ShortVector h0 = ShortVector.fromMemorySegment(S, weights, w0 + 2L * c, Lanes.ORDER);
            ShortVector h1 = ShortVector.fromMemorySegment(S, weights, w1 + 2L * c, Lanes.ORDER);
            ShortVector h2 = ShortVector.fromMemorySegment(S, weights, w2 + 2L * c, Lanes.ORDER);
            ShortVector h3 = ShortVector.fromMemorySegment(S, weights, w3 + 2L * c, Lanes.ORDER);
            a0 = ((IntVector) h0.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, a0);
            a1 = ((IntVector) h1.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, a1);
            a2 = ((IntVector) h2.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, a2);
            a3 = ((IntVector) h3.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, a3);
        }
        a0.intoArray(partials, 0);
        a1.intoArray(partials, F.length());
        a2.intoArray(partials, 2 * F.length());
        a3.intoArray(partials, 3 * F.length());
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        int c = 0;
        for (; c < F.loopBound(count); c += F.length()) {
            Lanes.bf16ToFloat(weights, offset + 2L * c, dst, dstOffset + c);
        }
        for (; c < count; c++) {
            dst[dstOffset + c] = Float.intBitsToFloat(weights.get(Dequantize.I16_LE, offset + 2L * c) << 16);
        }
    }
}
