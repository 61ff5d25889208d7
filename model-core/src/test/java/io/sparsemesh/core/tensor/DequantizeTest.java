package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The scalar decoders against blocks written from known codes and scales. */
class DequantizeTest {

    private final SplittableRandom random = new SplittableRandom(3);

    @Test
    void q8_0DecodesScaledCodes() {
        int[] q = codes(32, -128, 127);
        MemorySegment block = Arena.ofAuto().allocate(34);
        GgmlBlocks.q8_0(block, 0.05f, q);

        float[] decoded = Matrices.toFloats(DType.Q8_0, block, 32);

        float d = f16(0.05f);
        for (int i = 0; i < 32; i++) {
            assertEquals(d * q[i], decoded[i], "element " + i);
        }
    }

    @Test
    void q4_0DecodesOffsetNibbles() {
        int[] q = codes(32, 0, 15);
        MemorySegment block = Arena.ofAuto().allocate(18);
        GgmlBlocks.q4_0(block, 0.3f, q);

        float[] decoded = Matrices.toFloats(DType.Q4_0, block, 32);

        float d = f16(0.3f);
        for (int i = 0; i < 32; i++) {
            assertEquals(d * (q[i] - 8), decoded[i], "element " + i);
        }
    }

    @Test
    void q4_KDecodesSubBlockScalesAndMinimums() {
        int[] scales = codes(8, 0, 63);
        int[] mins = codes(8, 0, 63);
        scales[7] = 63;
        mins[4] = 63;
        int[] q = codes(256, 0, 15);
        MemorySegment block = Arena.ofAuto().allocate(144);
        GgmlBlocks.q4_K(block, 0.02f, 0.01f, scales, mins, q);

        float[] decoded = Matrices.toFloats(DType.Q4_K, block, 256);

        float d = f16(0.02f);
        float dmin = f16(0.01f);
        for (int i = 0; i < 256; i++) {
            float expected = d * scales[i / 32] * q[i] - dmin * mins[i / 32];
            assertEquals(expected, decoded[i], "element " + i + " (sub-block " + i / 32 + ")");
        }
    }

    @Test
    void q6_KDecodesSixBitCodesWithSignedScales() {
        int[] scales = codes(16, -128, 127);
        int[] q = codes(256, 0, 63);
        MemorySegment block = Arena.ofAuto().allocate(210);
        GgmlBlocks.q6_K(block, 0.004f, scales, q);

        float[] decoded = Matrices.toFloats(DType.Q6_K, block, 256);

        float d = f16(0.004f);
        for (int i = 0; i < 256; i++) {
            assertEquals(d * scales[i / 16] * (q[i] - 32), decoded[i], "element " + i + " (scale group " + i / 16 + ")");
        }
    }

    @Test
    void e4m3DecodesFiniteOnlyFormat() {
        assertEquals(1.0f, Dequantize.e4m3((byte) 0x38));
        assertEquals(-2.0f, Dequantize.e4m3((byte) 0xC0));
        assertEquals(448f, Dequantize.e4m3((byte) 0x7E), "largest finite value");
        assertEquals(0x1p-9f, Dequantize.e4m3((byte) 0x01), "smallest subnormal");
        assertEquals(0x1.cp-7f, Dequantize.e4m3((byte) 0x07), "largest subnormal");
        assertTrue(Float.isNaN(Dequantize.e4m3((byte) 0x7F)));
        assertTrue(Float.isNaN(Dequantize.e4m3((byte) 0xFF)));
    }

    @Test
    void plainTypesDecodeByteForByte() {
        MemorySegment halves = Arena.ofAuto().allocate(4);
        halves.set(TestWeights.I16_LE, 0, Float.floatToFloat16(-1.5f));
        halves.set(TestWeights.I16_LE, 2, (short) 0x3F80);

        assertEquals(-1.5f, Matrices.toFloats(DType.F16, halves, 1)[0]);
        assertEquals(1.0f, Matrices.toFloats(DType.BF16, halves.asSlice(2), 1)[0], "0x3F80 is 1.0 in bfloat16");
    }

    @Test
    void partialBlockIsRejected() {
        MemorySegment block = Arena.ofAuto().allocate(34);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Matrices.toFloats(DType.Q8_0, block, 31));

        assertTrue(error.getMessage().contains("31"), error.getMessage());
    }

    private int[] codes(int count, int min, int max) {
        int[] codes = new int[count];
        for (int i = 0; i < count; i++) {
            codes[i] = random.nextInt(min, max + 1);
        }
        return codes;
    }

    private static float f16(float value) {
        return Float.float16ToFloat(Float.floatToFloat16(value));
    }
}
