package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q4_K weights: super-blocks of 256 elements in eight sub-blocks of 32, each with a
 * 6-bit scale and a 6-bit minimum, so {@code w = d·scale·q - dmin·min} for 4-bit codes {@code q}.
 * Each 32 bytes of codes store sub-block {@code 2i} in their low nibbles and {@code 2i + 1} in
 * their high nibbles. {@link Dequantize} unpacks the scales.
 */
final class Q4_KMatrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    Q4_KMatrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q4_K, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q4_KMatrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        for (int block = 0; block < count / 256; block++) {
            long at = offset + 144L * block;
            float d = Dequantize.f16(weights, at);
            float dmin = Dequantize.f16(weights, at + 2);
            for (int pair = 0; pair < 4; pair++) {
                float lowScale = d * Dequantize.q4_KScale(weights, at, 2 * pair);
                float lowMin = dmin * Dequantize.q4_KMin(weights, at, 2 * pair);
                float highScale = d * Dequantize.q4_KScale(weights, at, 2 * pair + 1);
                float highMin = dmin * Dequantize.q4_KMin(weights, at, 2 * pair + 1);
                for (int j = 0; j < 32; j += F.length()) {
                    ByteVector packed = Lanes.loadBytes(weights, at + Dequantize.Q4_K_QS + 32L * pair + j);
                    int to = dstOffset + 256 * block + 64 * pair + j;
                    Lanes.widen(packed.and((byte) 0x0F)).mul(lowScale).sub(lowMin).intoArray(dst, to);
                    Lanes.widen(packed.lanewise(VectorOperators.LSHR, 4)).mul(highScale).sub(highMin).intoArray(dst, to + 32);
                }
            }
        }
    }
}
