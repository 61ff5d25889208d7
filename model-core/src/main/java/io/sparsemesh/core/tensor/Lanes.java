package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every Vector API kernel uses, and the conversions from stored weight types
 * to float lanes. All species have the same lane count as {@link #FLOATS}, except {@link #BYTES},
 * which has at least 8 lanes because no byte vector is narrower than 64 bits.
 *
 * <p>Only classes of the {@link KernelBackend#VECTOR} backend touch this class, so a JVM without
 * {@code jdk.incubator.vector} never loads it.
 */
final class Lanes {

    /**
     * System property that overrides the vector width in bits (128, 256 or 512), so tests can run
     * the narrower code paths on a wide machine. A width the CPU lacks runs very slowly.
     */
    static final String BITS_PROPERTY = "sparsemesh.kernels.vector-bits";

    /** The widest float species the CPU runs natively, capped at 512 bits (16 lanes), unless {@link #BITS_PROPERTY} is set. */
    static final VectorSpecies<Float> FLOATS = floatSpecies();
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    static final VectorSpecies<Byte> BYTES =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, FLOATS.length() * 8)));
    private static final VectorMask<Byte> FLOAT_LANES_OF_BYTES = BYTES.indexInRange(0, FLOATS.length());

    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    // Rotations by 8, 4, 2 and 1 lanes, for the fixed-order tree in sum().
    private static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(FLOATS, 8, 1, true);
    private static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(FLOATS, 4, 1, true);
    private static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(FLOATS, 2, 1, true);
    private static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(FLOATS, 1, 1, true);

    private static final int F16_EXPONENT = 0x7C00 << 13;
    private static final float F16_MIN_NORMAL = 0x1p-14f;

    private Lanes() {
    }

    private static VectorSpecies<Float> floatSpecies() {
        String requested = System.getProperty(BITS_PROPERTY);
        if (requested != null) {
            return switch (requested.trim()) {
                case "128" -> FloatVector.SPECIES_128;
                case "256" -> FloatVector.SPECIES_256;
                case "512" -> FloatVector.SPECIES_512;
                default -> throw new IllegalArgumentException("invalid " + BITS_PROPERTY + "=" + requested
                        + "; expected 128, 256 or 512");
            };
        }
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        // NOTE: wider vectors (SVE up to 2048 bits) are capped because the Q4_0 and K-quant kernels
        // decode at most 16 elements of a block per vector; untested on such hardware.
        return preferred.vectorBitSize() > 512 ? FloatVector.SPECIES_512 : preferred;
    }

    /** Returns whether these species are wide enough to beat scalar code (4 or more float lanes). */
    static boolean useful() {
        return FLOATS.length() >= 4;
    }

    /**
     * Returns the sum of the lanes of {@code v}, added in a fixed tree order. {@code
     * reduceLanes(ADD)} leaves the order open, and the JDK's interpreted and compiled versions
     * differ, so a result could change by an ulp once the JIT compiles a kernel; lane-wise adds
     * round the same everywhere.
     */
    static float sum(FloatVector v) {
        if (FLOATS.length() >= 16) {
            v = v.add(v.rearrange(ROTATE_8));
        }
        if (FLOATS.length() >= 8) {
            v = v.add(v.rearrange(ROTATE_4));
        }
        v = v.add(v.rearrange(ROTATE_2));
        v = v.add(v.rearrange(ROTATE_1));
        return v.lane(0);
    }

    /**
     * Reduces the 2x4 tile of accumulators that {@code partials} holds as eight vectors, vector
     * {@code 2b + i} for weight row {@code i} and x row {@code b}, and writes each sum to
     * {@code out[(i == 0 ? o0 : o1) + b·stride]}. Tiles store their accumulators and call this
     * rather than reducing in place, so that no vector crosses a call the JIT might not inline.
     */
    static void sumTile(float[] partials, float[] out, int o0, int o1, int stride) {
        for (int b = 0; b < 4; b++) {
            out[o0 + b * stride] = sum(FloatVector.fromArray(FLOATS, partials, 2 * b * FLOATS.length()));
            out[o1 + b * stride] = sum(FloatVector.fromArray(FLOATS, partials, (2 * b + 1) * FLOATS.length()));
        }
    }

    /** Widens {@code FLOATS.length()} bfloat16 values to floats: bfloat16 is the top half of a float. */
    static FloatVector bf16ToFloat(ShortVector halves) {
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Converts {@code FLOATS.length()} IEEE binary16 values to floats, bit-exact with
     * {@link Float#float16ToFloat} for every non-NaN input. The exponent is rebiased from 15 to
     * 127; infinities and NaNs get the float exponent 255; subnormals are rebuilt as
     * {@code (1 + m/1024)·2^-14 - 2^-14}, which stays in normal float range and is exact.
     */
    static FloatVector f16ToFloat(ShortVector halves) {
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = bits.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector exponent = magnitude.and(F16_EXPONENT);

        IntVector rebiased = magnitude.add((127 - 15) << 23);
        rebiased = rebiased.add((128 - 16) << 23, exponent.eq(F16_EXPONENT));
        VectorMask<Integer> subnormal = exponent.eq(0);
        rebiased = rebiased.add(1 << 23, subnormal);

        FloatVector value = rebiased.reinterpretAsFloats()
                .lanewise(VectorOperators.SUB, F16_MIN_NORMAL, subnormal.cast(FLOATS));
        return value.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    /**
     * Loads {@code FLOATS.length()} bytes from {@code offset}; when {@link #BYTES} has more lanes
     * than that, the extra lanes are zero and nothing past the requested bytes is read.
     */
    static ByteVector loadBytes(MemorySegment segment, long offset) {
        if (BYTES.length() == FLOATS.length()) {
            return ByteVector.fromMemorySegment(BYTES, segment, offset, ORDER);
        }
        return ByteVector.fromMemorySegment(BYTES, segment, offset, ORDER, FLOAT_LANES_OF_BYTES);
    }

    /** Widens the first {@code FLOATS.length()} lanes of {@code bytes}, as signed integers, to floats. */
    static FloatVector widen(ByteVector bytes) {
        return (FloatVector) bytes.convertShape(VectorOperators.B2F, FLOATS, 0);
    }
}
