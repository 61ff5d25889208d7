package io.sparsemesh.core.checkpoint;

/**
 * Decodes OCP FP8 E4M3 ("e4m3fn"): 1 sign bit, 4 exponent bits with bias 7, 3 mantissa bits,
 * no infinities, and NaN only for the bit patterns {@code S.1111.111}. The largest finite value is 448.
 */
final class Fp8E4M3 {

    private static final float[] TABLE = new float[256];

    static {
        for (int bits = 0; bits < 256; bits++) {
            TABLE[bits] = decodeSlow(bits);
        }
    }

    private Fp8E4M3() {
    }

    static float toFloat(byte bits) {
        return TABLE[bits & 0xFF];
    }

    private static float decodeSlow(int bits) {
        int sign = (bits >>> 7) & 1;
        int exponent = (bits >>> 3) & 0xF;
        int mantissa = bits & 0x7;
        float magnitude;
        if (exponent == 0xF && mantissa == 0x7) {
            magnitude = Float.NaN;
        } else if (exponent == 0) {
            magnitude = mantissa / 8f * 0x1p-6f;
        } else {
            magnitude = (1 + mantissa / 8f) * (float) Math.scalb(1.0, exponent - 7);
        }
        return sign == 1 ? -magnitude : magnitude;
    }
}
