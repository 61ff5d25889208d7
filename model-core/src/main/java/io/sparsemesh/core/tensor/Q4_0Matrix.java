package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q4_0 weights: blocks of 32 elements stored as an F16 scale {@code d} and 16 bytes
 * of 4-bit codes {@code q}, with {@code w = d·(q - 8)}. Byte {@code i} stores element {@code i} in
 * its low nibble and element {@code i + 16} in its high nibble. A matvec reads the weights in place.
 */
final class Q4_0Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final VectorSpecies<Byte> B = Lanes.BYTES;

    Q4_0Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q4_0, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q4_0Matrix(weights, rows, cols);
    }

    @Override
    boolean readsInPlace() {
        return true;
    }

    @Override
    void dot4x1(int r0, int r1, int r2, int r3, int firstCol, int width, float[] x, int x0, float[] partials) {
        long w0 = r0 * rowBytes + 18L * (firstCol / 32);
        long w1 = r1 * rowBytes + 18L * (firstCol / 32);
        long w2 = r2 * rowBytes + 18L * (firstCol / 32);
        long w3 = r3 * rowBytes + 18L * (firstCol / 32);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int block = 0; block < width / 32; block++) {
            long b0 = w0 + 18L * block;
            long b1 = w1 + 18L * block;
            long b2 = w2 + 18L * block;
            long b3 = w3 + 18L * block;
            float d0 = Dequantize.f16(weights, b0);
            float d1 = Dequantize.f16(weights, b1);
            float d2 = Dequantize.f16(weights, b2);
            float d3 = Dequantize.f16(weights, b3);
            // Low nibbles are the block's first 16 elements, high nibbles the next 16, in that order per row.
            for (int j = 0; j < 16; j += F.length()) {
                ByteVector q0 = ByteVector.fromMemorySegment(B, weights, b0 + 2 + j, Lanes.ORDER);
                ByteVector q1 = ByteVector.fromMemorySegment(B, weights, b1 + 2 + j, Lanes.ORDER);
                ByteVector q2 = ByteVector.fromMemorySegment(B, weights, b2 + 2 + j, Lanes.ORDER);
                ByteVector q3 = ByteVector.fromMemorySegment(B, weights, b3 + 2 + j, Lanes.ORDER);
                FloatVector y = FloatVector.fromArray(F, x, x0 + 32 * block + j);
                a0 = ((FloatVector) q0.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(y, a0);
                a1 = ((FloatVector) q1.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(y, a1);
                a2 = ((FloatVector) q2.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(y, a2);
                a3 = ((FloatVector) q3.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(y, a3);
            }
            for (int j = 0; j < 16; j += F.length()) {
                ByteVector q0 = ByteVector.fromMemorySegment(B, weights, b0 + 2 + j, Lanes.ORDER);
                ByteVector q1 = ByteVector.fromMemorySegment(B, weights, b1 + 2 + j, Lanes.ORDER);
                ByteVector q2 = ByteVector.fromMemorySegment(B, weights, b2 + 2 + j, Lanes.ORDER);
                ByteVector q3 = ByteVector.fromMemorySegment(B, weights, b3 + 2 + j, Lanes.ORDER);
                FloatVector y = FloatVector.fromArray(F, x, x0 + 32 * block + 16 + j);
                a0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(y, a0);
                a1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(y, a1);
                a2 = ((FloatVector) q2.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(y, a2);
                a3 = ((FloatVector) q3.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(y, a3);
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
            long at = offset + 18L * block;
            float d = Dequantize.f16(weights, at);
            for (int j = 0; j < 16; j += F.length()) {
                decodeNibbles(at + 2 + j, d, dst, dstOffset + 32 * block + j);
            }
        }
    }

    /** Decodes the low nibbles of {@code F.length()} bytes at {@code packed} into {@code dst[to ..)} and their high nibbles into {@code dst[to + 16 ..)}. */
    private void decodeNibbles(long packed, float d, float[] dst, int to) {
        ByteVector bytes = ByteVector.fromMemorySegment(B, weights, packed, Lanes.ORDER);
        ByteVector low = bytes.and((byte) 0x0F).sub((byte) 8);
        ByteVector high = bytes.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
        ((FloatVector) low.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, to);
        ((FloatVector) high.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, to + 16);
    }
}
