package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q8_0 weights: blocks of 32 elements stored as an F16 scale {@code d} and 32 signed
 * bytes {@code q}, with {@code w = d·q}. Unlike llama.cpp, a matmul keeps x in float instead of
 * quantising it to 8 bits, so its result differs from dequantise-then-multiply only by float
 * rounding.
 */
final class Q8_0Matrix extends MappedMatrix {

    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    Q8_0Matrix(MemorySegment weights, int rows, int cols) {
        super(DType.Q8_0, weights, rows, cols);
    }

    @Override
    MappedMatrix withRows(MemorySegment weights, int rows) {
        return new Q8_0Matrix(weights, rows, cols);
    }

    @Override
    void decode(long offset, int count, float[] dst, int dstOffset) {
        for (int block = 0; block < count / 32; block++) {
            long at = offset + 34L * block;
            float d = Dequantize.f16(weights, at);
            for (int j = 0; j < 32; j += F.length()) {
                Lanes.widen(Lanes.loadBytes(weights, at + 2 + j)).mul(d).intoArray(dst, dstOffset + 32 * block + j);
            }
        }
    }
}
