package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The in-register conversions against the JDK's scalar conversions, for every 16-bit pattern. */
class LanesTest {

    @Test
    void f16ToFloatMatchesJdk() {
        int lanes = Lanes.FLOATS.length();
        short[] halves = new short[lanes];
        float[] converted = new float[lanes];
        for (int first = 0; first < 1 << 16; first += lanes) {
            for (int i = 0; i < lanes; i++) {
                halves[i] = (short) (first + i);
            }
            Lanes.f16ToFloat(MemorySegment.ofArray(halves), 0, converted, 0);

            for (int i = 0; i < lanes; i++) {
                float expected = Float.float16ToFloat(halves[i]);
                String bits = String.format("0x%04X", halves[i] & 0xFFFF);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(converted[i]), bits + " should convert to NaN");
                } else {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(converted[i]),
                            bits + " converted to " + converted[i] + ", expected " + expected);
                }
            }
        }
    }

    @Test
    void bf16ToFloatMatchesShift() {
        int lanes = Lanes.FLOATS.length();
        short[] halves = new short[lanes];
        float[] converted = new float[lanes];
        for (int first = 0; first < 1 << 16; first += lanes) {
            for (int i = 0; i < lanes; i++) {
                halves[i] = (short) (first + i);
            }
            Lanes.bf16ToFloat(MemorySegment.ofArray(halves), 0, converted, 0);

            for (int i = 0; i < lanes; i++) {
                assertEquals((halves[i] & 0xFFFF) << 16, Float.floatToRawIntBits(converted[i]),
                        String.format("0x%04X", halves[i] & 0xFFFF));
            }
        }
    }

    @Test
    void bytesToFloatKeepsSignAndScales() {
        assumeTrue(Lanes.decodesBytes(), "byte vectors are wider than float vectors here");
        byte[] bytes = new byte[Lanes.FLOATS.length()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i % 2 == 0 ? -128 + i : 127 - i);
        }
        float[] converted = new float[bytes.length];

        Lanes.bytesToFloat(MemorySegment.ofArray(bytes), 0, 0.5f, converted, 0);

        for (int i = 0; i < bytes.length; i++) {
            assertEquals(bytes[i] * 0.5f, converted[i], "lane " + i);
        }
    }

    @Test
    void sumAddsEveryLane() {
        float[] partials = new float[Lanes.FLOATS.length()];
        for (int i = 0; i < partials.length; i++) {
            partials[i] = 1 << i;
        }

        assertEquals((1 << partials.length) - 1, Lanes.sum(partials, 0));
    }
}
