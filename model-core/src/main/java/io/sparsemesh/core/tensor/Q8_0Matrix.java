package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q8_0 weights: blocks of 32 elements stored as an F16 scale {@code d} and 32 signed
 * bytes {@code q}, with {@code w = d·q}. Unlike llama.cpp, a matmul keeps x in float instead of
 * quantising it to 8 bits, so its result differs from dequantise-then-multiply only by float
 * rounding. A matvec reads the weights in place.
 */
final class Q8_0Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final VectorSpecies<Byte> B = Lanes.BYTES;

    Q8_0Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q8_0, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q8_0Matrix(weights, rows, cols);
    }

    @Override
    boolean readsInPlace() {
        return true;
    }

    @Override
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] partials) {
        long w0 = r0 * rowBytes + 34L * (firstCol / 32);
        long w1 = r1 * rowBytes + 34L * (firstCol / 32);
        long w2 = r2 * rowBytes + 34L * (firstCol / 32);
        long w3 = r3 * rowBytes + 34L * (firstCol / 32);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int block = 0; block < width / 32; block++) {
            long b0 = w0 + 34L * block;
            long b1 = w1 + 34L * block;
            long b2 = w2 + 34L * block;
            long b3 = w3 + 34L * block;
            float d0 = Dequantize.f16(weights, b0);
            float d1 = Dequantize.f16(weights, b1);
            float d2 = Dequantize.f16(weights, b2);
            float d3 = Dequantize.f16(weights, b3);
            for (int j = 0; j < 32; j += F.length()) {
                FloatVector y = FloatVector.fromArray(F, x, x0 + 32 * block + j);
                ByteVector q0 = ByteVector.fromMemorySegment(B, weights, b0 + 2 + j, Lanes.ORDER);
                ByteVector q1 = ByteVector.fromMemorySegment(B, weights, b1 + 2 + j, Lanes.ORDER);
                ByteVector q2 = ByteVector.fromMemorySegment(B, weights, b2 + 2 + j, Lanes.ORDER);
                ByteVector q3 = ByteVector.fromMemorySegment(B, weights, b3 + 2 + j, Lanes.ORDER);
                a0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(y, a0);
                a1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(y, a1);
                a2 = ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(y, a2);
                a3 = ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(y, a3);
            }
        }
        a0.intoArray(partials, 0);
        a1.intoArray(partials, F.length());
        a2.intoArray(partials, 2 * F.length());
        a3.intoArray(partials, 3 * F.length());
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        for (int block = 0; block < count / 32; block++) {
            long at = offset + 34L * block;
            float d = Dequantize.f16(weights, at);
            for (int j = 0; j < 32; j += F.length()) {
                Lanes.bytesToFloat(weights, at + 2 + j, d, dst, dstOffset + 32 * block + j);
            }
        }
    }
}
