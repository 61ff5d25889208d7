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
 * The vector species every Vector API kernel uses, the lane sums, and the conversions from stored
 * weight types to floats. All species have the lane count of {@link #FLOATS}; {@link #BYTES} only
 * when that is 8 or more, because no byte vector is narrower than 64 bits.
 *
 * <p>No method here or in the kernels takes or returns a vector. C2 keeps a vector in registers
 * only while every call on its way is inlined. It may decline to inline a method of ours: one too
 * large for a call site it thinks cold, one already compiled big, or any once the caller passes
 * its node budget, which Vector API code reaches fast. A vector that crosses such a call is boxed
 * on the heap. So helpers take offsets and arrays, and load and store their vectors themselves.
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

    /** Returns whether byte vectors have as many lanes as float vectors, which the kernels of block types need. */
    static boolean decodesBytes() {
        return BYTES.length() == FLOATS.length();
    }

    /**
     * Returns the sum of the lanes of vector {@code index} of {@code partials}, added in a fixed
     * tree order. The order of {@code reduceLanes(ADD)} is unspecified, and in JDK 25 its
     * interpreted and compiled forms differ, so a result could change by an ulp once the JIT
     * compiles a kernel. Lane-wise adds round the same in every tier.
     */
    static float sum(float[] partials, int index) {
        FloatVector v = FloatVector.fromArray(FLOATS, partials, index * FLOATS.length());
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
     * Writes the lane sums of vectors 0 and 1 of {@code partials} to {@code out[o0]} and
     * {@code out[o1]}, or adds them there when {@code accumulate} is true. Both values come from
     * the old outputs, so a row paired with itself ({@code o0 == o1}) is added once.
     */
    static void storeSums(float[] partials, float[] out, int o0, int o1, boolean accumulate) {
        float value0 = accumulate ? out[o0] + sum(partials, 0) : sum(partials, 0);
        float value1 = accumulate ? out[o1] + sum(partials, 1) : sum(partials, 1);
        out[o0] = value0;
        out[o1] = value1;
    }

    /** Same as {@link #storeSums(float[], float[], int, int, boolean)} for vectors 0 to 3. */
    static void storeSums(float[] partials, float[] out, int o0, int o1, int o2, int o3, boolean accumulate) {
        float value0 = accumulate ? out[o0] + sum(partials, 0) : sum(partials, 0);
        float value1 = accumulate ? out[o1] + sum(partials, 1) : sum(partials, 1);
        float value2 = accumulate ? out[o2] + sum(partials, 2) : sum(partials, 2);
        float value3 = accumulate ? out[o3] + sum(partials, 3) : sum(partials, 3);
        out[o0] = value0;
        out[o1] = value1;
        out[o2] = value2;
        out[o3] = value3;
    }

    /**
     * Reduces the 2x4 tile of accumulators that {@code partials} stores as eight vectors, vector
     * {@code 2b + i} for weight row {@code i} and x row {@code b}, and writes each sum to
     * {@code out[(i == 0 ? o0 : o1) + b·stride]}, or adds it there when {@code accumulate} is true.
     *
     * <p>Each step folds two vectors into one: in lane groups of width {@code h} where the mask is
     * false the result is {@code a[i] + a[i + h]}, elsewhere {@code b[i] + b[i - h]}. So one
     * shuffle serves two sums. Every sum adds its lanes in the same tree as {@link #sum}, and IEEE
     * addition is commutative, so the results equal {@code sum} bit for bit.
     */
    static void sumTile(float[] partials, float[] out, int o0, int o1, int stride, boolean accumulate) {
        int n = FLOATS.length();
        FloatVector v0 = FloatVector.fromArray(FLOATS, partials, 0);
        FloatVector v1 = FloatVector.fromArray(FLOATS, partials, n);
        FloatVector v2 = FloatVector.fromArray(FLOATS, partials, 2 * n);
        FloatVector v3 = FloatVector.fromArray(FLOATS, partials, 3 * n);
        FloatVector v4 = FloatVector.fromArray(FLOATS, partials, 4 * n);
        FloatVector v5 = FloatVector.fromArray(FLOATS, partials, 5 * n);
        FloatVector v6 = FloatVector.fromArray(FLOATS, partials, 6 * n);
        FloatVector v7 = FloatVector.fromArray(FLOATS, partials, 7 * n);

        FloatVector s0 = v0.blend(v1, HALF_MASK).add(v0.rearrange(HALF_UP).blend(v1.rearrange(HALF_DOWN), HALF_MASK));
        FloatVector s1 = v2.blend(v3, HALF_MASK).add(v2.rearrange(HALF_UP).blend(v3.rearrange(HALF_DOWN), HALF_MASK));
        FloatVector s2 = v4.blend(v5, HALF_MASK).add(v4.rearrange(HALF_UP).blend(v5.rearrange(HALF_DOWN), HALF_MASK));
        FloatVector s3 = v6.blend(v7, HALF_MASK).add(v6.rearrange(HALF_UP).blend(v7.rearrange(HALF_DOWN), HALF_MASK));
        FloatVector q0 = s0.blend(s1, QUARTER_MASK).add(s0.rearrange(QUARTER_UP).blend(s1.rearrange(QUARTER_DOWN), QUARTER_MASK));
        FloatVector q1 = s2.blend(s3, QUARTER_MASK).add(s2.rearrange(QUARTER_UP).blend(s3.rearrange(QUARTER_DOWN), QUARTER_MASK));
        if (n >= 8) {
            FloatVector e = q0.blend(q1, EIGHTH_MASK).add(q0.rearrange(EIGHTH_UP).blend(q1.rearrange(EIGHTH_DOWN), EIGHTH_MASK));
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

    /** Decodes {@code FLOATS.length()} bfloat16 values at byte {@code offset} into {@code dst[to ..)}: bfloat16 is the top half of a float. */
    static void bf16ToFloat(MemorySegment segment, long offset, float[] dst, int to) {
        ShortVector halves = ShortVector.fromMemorySegment(SHORTS, segment, offset, ORDER);
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
        bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, to);
    }

    /**
     * Decodes {@code FLOATS.length()} IEEE binary16 values at byte {@code offset} into
     * {@code dst[to ..)}, bit-exact with {@link Float#float16ToFloat} for every non-NaN input. The
     * exponent is rebiased from 15 to 127, and infinities and NaNs get the float exponent 255.
     * Subnormals are rebuilt as {@code (1 + m/1024)·2^-14 - 2^-14}, which stays in the normal
     * float range and is exact.
     */
    static void f16ToFloat(MemorySegment segment, long offset, float[] dst, int to) {
        ShortVector halves = ShortVector.fromMemorySegment(SHORTS, segment, offset, ORDER);
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
        value.reinterpretAsInts().or(sign).reinterpretAsFloats().intoArray(dst, to);
    }

    /** Decodes {@code FLOATS.length()} signed bytes at byte {@code offset}, times {@code scale}, into {@code dst[to ..)}. */
    static void bytesToFloat(MemorySegment segment, long offset, float scale, float[] dst, int to) {
        ByteVector bytes = ByteVector.fromMemorySegment(BYTES, segment, offset, ORDER);
        ((FloatVector) bytes.convertShape(VectorOperators.B2F, FLOATS, 0)).mul(scale).intoArray(dst, to);
    }
}
