package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
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
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l += F.length()) {
                    ByteVector high = Lanes.loadBytes(weights, at + Dequantize.Q6_K_QH + 32L * half + l);
                    for (int k = 0; k < 4; k++) {
                        ByteVector low = Lanes.loadBytes(weights, at + 64L * half + 32 * (k % 2) + l);
                        ByteVector lowBits = k < 2 ? low.and((byte) 0x0F) : low.lanewise(VectorOperators.LSHR, 4);
                        ByteVector highBits = high.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                        float scale = d * Dequantize.q6_KScale(weights, at, 8 * half + 2 * k + l / 16);
                        int to = dstOffset + 256 * block + 128 * half + 32 * k + l;
                        Lanes.widen(lowBits.or(highBits).sub((byte) 32)).mul(scale).intoArray(dst, to);
                    }
                }
            }
        }
    }
}
