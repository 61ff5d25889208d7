package io.sparsemesh.core.tiny;

/**
 * OCP FP8 E4M3 ("float8_e4m3fn") written out here for the tests, independently of the checkpoint
 * reader: 1 sign bit, 4 exponent bits with bias 7, 3 mantissa bits, subnormals below 2^-6, no
 * infinities, NaN only at {@code S.1111.111}, largest finite magnitude 448.
 */
final class E4m3 {

    static final float MAX = 448f;

    /** Decoded magnitudes of the positive finite patterns 0x00..0x7E, increasing with the pattern. */
    private static final float[] MAGNITUDES = new float[0x7F];

    static {
        for (int bits = 0; bits < MAGNITUDES.length; bits++) {
            MAGNITUDES[bits] = decode((byte) bits);
        }
    }

    private E4m3() {
    }

    static float decode(byte value) {
        int bits = value & 0xFF;
        int exponent = (bits >> 3) & 0xF;
        int mantissa = bits & 0x7;
        float magnitude;
        if (exponent == 0xF && mantissa == 0x7) {
            magnitude = Float.NaN;
        } else if (exponent == 0) {
            magnitude = mantissa * 0x1p-9f; // subnormal: (m / 8) · 2^-6
        } else {
            magnitude = (8 + mantissa) * (float) Math.pow(2, exponent - 10); // (1 + m / 8) · 2^(e - 7)
        }
        return (bits & 0x80) != 0 ? -magnitude : magnitude;
    }

    /** Rounds {@code value} to the nearest E4M3 pattern, ties to the even pattern, saturating at ±448. */
    static byte encode(float value) {
        if (Float.isNaN(value)) {
            throw new IllegalArgumentException("cannot encode NaN: test weights must be finite");
        }
        int sign = value < 0 || (value == 0 && 1 / value < 0) ? 0x80 : 0;
        float magnitude = Math.min(Math.abs(value), MAX);

        // the first pattern at or above the magnitude, then the nearer of it and the one below
        int low = 0;
        int high = MAGNITUDES.length - 1;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (MAGNITUDES[middle] < magnitude) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        int bits = low;
        if (bits > 0) {
            float above = MAGNITUDES[bits] - magnitude;
            float below = magnitude - MAGNITUDES[bits - 1];
            if (below < above || (below == above && (bits & 1) == 1)) {
                bits--;
            }
        }
        return (byte) (sign | bits);
    }
}
