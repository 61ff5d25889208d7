package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mapped GGML Q4_0 weights: blocks of 32 elements stored as an F16 scale {@code d} and 16 bytes
 * of 4-bit codes {@code q}, with {@code w = d·(q - 8)}. Byte {@code i} stores element {@code i} in
 * its low nibble and element {@code i + 16} in its high nibble.
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
