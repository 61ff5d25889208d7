package io.sparsemesh.transport;

import io.sparsemesh.protocol.v1.Tensor;
import io.sparsemesh.protocol.v1.WireDType;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorCodecTest {

    @Test
    void f32RoundTripIsExact() {
        float[] values = randomValues(3 * 7);
        float[] decoded = new float[values.length];
        TensorCodec.decode(TensorCodec.encode(values, 3, 7, WireDType.WIRE_DTYPE_F32), 3, 7, decoded);
        assertArrayEquals(values, decoded);
    }

    @Test
    void bf16RoundTripWithinHalfUlp() {
        float[] values = randomValues(4 * 5);
        float[] decoded = new float[values.length];
        Tensor tensor = TensorCodec.encode(values, 4, 5, WireDType.WIRE_DTYPE_BF16);
        assertEquals(2 * values.length, tensor.getData().size());
        TensorCodec.decode(tensor, 4, 5, decoded);
        for (int i = 0; i < values.length; i++) {
            // bf16 keeps 8 significant bits, so rounding to nearest errs by at most 2^-8 of the value
            assertTrue(Math.abs(decoded[i] - values[i]) <= Math.abs(values[i]) * 0x1p-8, "element " + i);
        }
    }

    @Test
    void bf16RoundsTiesToEven() {
        // 1 + 2^-8 lies exactly between two bf16 values; ties go to the even mantissa (1.0)
        assertEquals((short) 0x3F80, TensorCodec.toBf16(1f + 0x1p-8f));
        // 1 + 3·2^-8 lies between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals((short) 0x3F82, TensorCodec.toBf16(1f + 3 * 0x1p-8f));
        assertTrue(Float.isNaN(Float.intBitsToFloat(TensorCodec.toBf16(Float.NaN) << 16)));
    }

    @Test
    void wrongShapeIsRejected() {
        Tensor tensor = TensorCodec.encode(new float[6], 2, 3, WireDType.WIRE_DTYPE_F32);
        var error = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(tensor, 3, 2, new float[6]));
        assertTrue(error.getMessage().contains("expected a 3x2 tensor"), error.getMessage());
    }

    @Test
    void truncatedDataIsRejected() {
        Tensor tensor = TensorCodec.encode(new float[6], 2, 3, WireDType.WIRE_DTYPE_F32).toBuilder()
                .setData(com.google.protobuf.ByteString.copyFrom(new byte[20])).build();
        var error = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(tensor, 2, 3, new float[6]));
        assertTrue(error.getMessage().contains("needs 24 bytes, got 20"), error.getMessage());
    }

    private static float[] randomValues(int count) {
        Random random = new Random(7);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian() * 10;
        }
        return values;
    }
}
