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

    // Masks and rotations of the folds in sumTile(), at widths of half, a quarter and an eighth of the lanes.
    private static final VectorMask<Float> HALF_MASK = foldMask(FLOATS.length() / 2);
    private static final VectorShuffle<Float> HALF_UP = VectorShuffle.iota(FLOATS, FLOATS.length() / 2, 1, true);
    private static final VectorShuffle<Float> HALF_DOWN = VectorShuffle.iota(FLOATS, FLOATS.length() / 2, 1, true);
    private static final VectorMask<Float> QUARTER_MASK = foldMask(FLOATS.length() / 4);
    private static final VectorShuffle<Float> QUARTER_UP = VectorShuffle.iota(FLOATS, FLOATS.length() / 4, 1, true);
    private static final VectorShuffle<Float> QUARTER_DOWN =
            VectorShuffle.iota(FLOATS, FLOATS.length() - FLOATS.length() / 4, 1, true);
    private static final VectorMask<Float> EIGHTH_MASK = foldMask(FLOATS.length() / 8);
    private static final VectorShuffle<Float> EIGHTH_UP = VectorShuffle.iota(FLOATS, FLOATS.length() / 8, 1, true);
    private static final VectorShuffle<Float> EIGHTH_DOWN =
            VectorShuffle.iota(FLOATS, FLOATS.length() - FLOATS.length() / 8, 1, true);
    private static final int[] SUM_POSITION = sumPositions();

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
        // NOTE: vectors wider than 512 bits (SVE allows up to 2048) are capped, because the Q4_0 and
        // K-quant decoders read at most 16 bytes of a block at a time. Such hardware is untested.
        return preferred.vectorBitSize() > 512 ? FloatVector.SPECIES_512 : preferred;
    }

    /** Returns whether these species are wide enough to beat scalar code (4 or more float lanes). */
    static boolean useful() {
        return FLOATS.length() >= 4;
    }

    /**
     * Returns the sum of the lanes of {@code v}, added in a fixed tree order. The order of {@code
     * reduceLanes(ADD)} is unspecified, and in JDK 25 its interpreted and compiled forms differ, so
     * a result could change by an ulp once the JIT compiles a kernel. Lane-wise adds round the same
     * in every tier.
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
     * Writes the lane sums of {@code a0} and {@code a1} to {@code out[o0]} and {@code out[o1]}, or
     * adds them there when {@code accumulate} is true. Both values come from the old outputs, so a
     * row paired with itself ({@code o0 == o1}) is added once.
     */
    static void storeSums(FloatVector a0, FloatVector a1, float[] out, int o0, int o1, boolean accumulate) {
        float value0 = accumulate ? out[o0] + sum(a0) : sum(a0);
        float value1 = accumulate ? out[o1] + sum(a1) : sum(a1);
        out[o0] = value0;
        out[o1] = value1;
    }

    /** Same as {@link #storeSums(FloatVector, FloatVector, float[], int, int, boolean)} for four vectors. */
    static void storeSums(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3,
                          float[] out, int o0, int o1, int o2, int o3, boolean accumulate) {
        float value0 = accumulate ? out[o0] + sum(a0) : sum(a0);
        float value1 = accumulate ? out[o1] + sum(a1) : sum(a1);
        float value2 = accumulate ? out[o2] + sum(a2) : sum(a2);
        float value3 = accumulate ? out[o3] + sum(a3) : sum(a3);
        out[o0] = value0;
        out[o1] = value1;
        out[o2] = value2;
        out[o3] = value3;
    }

    /**
     * Reduces the 2x4 tile of accumulators that {@code partials} stores as eight vectors, vector
     * {@code 2b + i} for weight row {@code i} and x row {@code b}, and writes each sum to
     * {@code out[(i == 0 ? o0 : o1) + b·stride]}, or adds it there when {@code accumulate} is
     * true. Tiles store their accumulators and call this
     * rather than reducing in place, so that no vector crosses a call the JIT might not inline.
     *
     * <p>Each step {@link #fold folds} two vectors into one, halving the lanes per sum, so one
     * shuffle serves two sums. Every sum adds its lanes in the same tree as {@link #sum}; IEEE
     * addition is commutative, so the results equal {@code sum} bit for bit.
     */
    static void sumTile(float[] partials, float[] out, int o0, int o1, int stride, boolean accumulate) {
        int n = FLOATS.length();
        FloatVector s0 = fold(vector(partials, 0), vector(partials, 1), HALF_MASK, HALF_UP, HALF_DOWN);
        FloatVector s1 = fold(vector(partials, 2), vector(partials, 3), HALF_MASK, HALF_UP, HALF_DOWN);
        FloatVector s2 = fold(vector(partials, 4), vector(partials, 5), HALF_MASK, HALF_UP, HALF_DOWN);
        FloatVector s3 = fold(vector(partials, 6), vector(partials, 7), HALF_MASK, HALF_UP, HALF_DOWN);
        FloatVector q0 = fold(s0, s1, QUARTER_MASK, QUARTER_UP, QUARTER_DOWN);
        FloatVector q1 = fold(s2, s3, QUARTER_MASK, QUARTER_UP, QUARTER_DOWN);
        if (n >= 8) {
            FloatVector e = fold(q0, q1, EIGHTH_MASK, EIGHTH_UP, EIGHTH_DOWN);
            if (n == 16) {
                e = e.add(e.rearrange(ROTATE_1));
            }
            e.intoArray(partials, 0);
        } else {
            q0.intoArray(partials, 0);
            q1.intoArray(partials, n);
        }

        for (int b = 0; b < 4; b++) {
            int i0 = o0 + b * stride;
            int i1 = o1 + b * stride;
            // Both values come from the old outputs, so a row paired with itself is added once.
            float value0 = accumulate ? out[i0] + partials[SUM_POSITION[2 * b]] : partials[SUM_POSITION[2 * b]];
            float value1 = accumulate ? out[i1] + partials[SUM_POSITION[2 * b + 1]] : partials[SUM_POSITION[2 * b + 1]];
            out[i0] = value0;
            out[i1] = value1;
        }
    }

    private static FloatVector vector(float[] partials, int index) {
        return FloatVector.fromArray(FLOATS, partials, index * FLOATS.length());
    }

    /**
     * Folds {@code a} and {@code b} at width {@code h}: in lane groups of {@code h} where
     * {@code mask} is false, the result is {@code a[i] + a[i + h]}, elsewhere {@code b[i] + b[i - h]}.
     * {@code up} and {@code down} rotate by {@code +h} and {@code -h} lanes.
     */
    private static FloatVector fold(FloatVector a, FloatVector b, VectorMask<Float> mask,
                                    VectorShuffle<Float> up, VectorShuffle<Float> down) {
        return a.blend(b, mask).add(a.rearrange(up).blend(b.rearrange(down), mask));
    }

    /** Returns the lanes {@code i} with {@code (i / h) % 2 == 1}, which a fold at width {@code h} takes from its second vector. */
    private static VectorMask<Float> foldMask(int h) {
        boolean[] second = new boolean[FLOATS.length()];
        for (int i = 0; i < second.length; i++) {
            second[i] = h > 0 && (i / h) % 2 == 1;
        }
        return VectorMask.fromArray(FLOATS, second, 0);
    }

    /**
     * Returns where {@link #sumTile} leaves the sum of vector {@code k} in {@code partials}. The
     * folds interleave the vectors in bit-reversed order: with 16 lanes the sums sit in every
     * second lane, with 8 in every lane, and with 4 in two vectors of four.
     */
    private static int[] sumPositions() {
        int n = FLOATS.length();
        int[] positions = new int[8];
        for (int k = 0; k < 8; k++) {
            int reversed3 = ((k & 1) << 2) | (k & 2) | ((k & 4) >> 2);
            int reversed2 = ((k & 1) << 1) | ((k & 2) >> 1);
            positions[k] = switch (n) {
                case 16 -> 2 * reversed3;
                case 8 -> reversed3;
                default -> 4 * (k / 4) + reversed2;
            };
        }
        return positions;
    }

    /** Widens {@code FLOATS.length()} bfloat16 values to floats: bfloat16 is the top half of a float. */
    static FloatVector bf16ToFloat(ShortVector halves) {
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Converts {@code FLOATS.length()} IEEE binary16 values to floats, bit-exact with
     * {@link Float#float16ToFloat} for every non-NaN input. The exponent is rebiased from 15 to
     * 127, and infinities and NaNs get the float exponent 255. Subnormals are rebuilt as
     * {@code (1 + m/1024)·2^-14 - 2^-14}, which stays in the normal float range and is exact.
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
     * Loads {@code FLOATS.length()} bytes from {@code offset}. When {@link #BYTES} has more lanes
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
