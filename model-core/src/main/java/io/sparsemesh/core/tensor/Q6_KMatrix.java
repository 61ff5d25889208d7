package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q6_K weights: super-blocks of 256 elements with one signed 8-bit scale per 16
 * elements, {@code w = d·scale·(q - 32)} for 6-bit codes {@code q} stored as 4 low bits and 2
 * high bits. In each half of 128 elements, element {@code 32k + l} ({@code k < 4}, {@code l < 32})
 * takes nibble {@code k / 2} of low byte {@code l + 32·(k % 2)} and bits {@code 2k, 2k + 1} of
 * high byte {@code l}.
 */
final class Q6_KMatrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final VectorSpecies<Integer> I = Lanes.INTS;
    private static final VectorSpecies<Byte> B = Lanes.BYTES;

    Q6_KMatrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q6_K, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q6_KMatrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        for (int block = 0; block < count / 256; block++) {
            long at = offset + 210L * block;
            float d = Dequantize.f16(weights, at + Dequantize.Q6_K_D);
            decodeHalf(at, 0, d, dst, dstOffset + 256 * block);
            decodeHalf(at, 1, d, dst, dstOffset + 256 * block + 128);
        }
    }

    /**
     * Decodes half {@code half} (128 elements) of the super-block at byte {@code at}. Element
     * {@code 32k + l} of the half takes nibble {@code k / 2} of low byte {@code l + 32·(k % 2)}
     * and bits {@code 2k, 2k + 1} of high byte {@code l}.
     *
     * <p>Each code position has its own method, with only scalar arguments (see {@link Lanes}).
     * They work in int lanes with constant shift counts, because x86 has no byte shifts and the
     * JDK 25 JIT does not compile vector shifts by a variable count.
     */
    private void decodeHalf(long at, int half, float d, float[] dst, int to) {
        long low = at + 64L * half;
        long high = at + Dequantize.Q6_K_QH + 32L * half;
        for (int l = 0; l < 32; l += F.length()) {
            int group = 8 * half + l / 16;
            decode0(low + l, high + l, d * Dequantize.q6_KScale(weights, at, group), dst, to + l);
            decode1(low + 32 + l, high + l, d * Dequantize.q6_KScale(weights, at, group + 2), dst, to + 32 + l);
            decode2(low + l, high + l, d * Dequantize.q6_KScale(weights, at, group + 4), dst, to + 64 + l);
            decode3(low + 32 + l, high + l, d * Dequantize.q6_KScale(weights, at, group + 6), dst, to + 96 + l);
        }
    }

    private void decode0(long lowAt, long highAt, float scale, float[] dst, int to) {
        IntVector low = (IntVector) ByteVector.fromMemorySegment(B, weights, lowAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector high = (IntVector) ByteVector.fromMemorySegment(B, weights, highAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector code = low.and(0x0F).or(high.and(0x03).lanewise(VectorOperators.LSHL, 4)).sub(32);
        ((FloatVector) code.convertShape(VectorOperators.I2F, F, 0)).mul(scale).intoArray(dst, to);
    }

    private void decode1(long lowAt, long highAt, float scale, float[] dst, int to) {
        IntVector low = (IntVector) ByteVector.fromMemorySegment(B, weights, lowAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector high = (IntVector) ByteVector.fromMemorySegment(B, weights, highAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector code = low.and(0x0F).or(high.and(0x0C).lanewise(VectorOperators.LSHL, 2)).sub(32);
        ((FloatVector) code.convertShape(VectorOperators.I2F, F, 0)).mul(scale).intoArray(dst, to);
    }

    private void decode2(long lowAt, long highAt, float scale, float[] dst, int to) {
        IntVector low = (IntVector) ByteVector.fromMemorySegment(B, weights, lowAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector high = (IntVector) ByteVector.fromMemorySegment(B, weights, highAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector code = low.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(high.and(0x30)).sub(32);
        ((FloatVector) code.convertShape(VectorOperators.I2F, F, 0)).mul(scale).intoArray(dst, to);
    }

    private void decode3(long lowAt, long highAt, float scale, float[] dst, int to) {
        IntVector low = (IntVector) ByteVector.fromMemorySegment(B, weights, lowAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector high = (IntVector) ByteVector.fromMemorySegment(B, weights, highAt, Lanes.ORDER).convertShape(VectorOperators.B2I, I, 0);
        IntVector code = low.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(high.and(0xC0).lanewise(VectorOperators.LSHR, 2)).sub(32);
        ((FloatVector) code.convertShape(VectorOperators.I2F, F, 0)).mul(scale).intoArray(dst, to);
    }
}
