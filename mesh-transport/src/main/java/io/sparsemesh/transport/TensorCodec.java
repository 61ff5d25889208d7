package io.sparsemesh.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.sparsemesh.protocol.v1.Tensor;
import io.sparsemesh.protocol.v1.WireDType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts batches of float rows to and from the wire {@link Tensor}: little-endian F32, or BF16
 * rounded to nearest even (half the bytes, about 3 significant decimal digits).
 */
public final class TensorCodec {

    private TensorCodec() {
    }

    /** Encodes {@code rows × cols} floats of {@code values} (from index 0) as a tensor of {@code dtype}. */
    public static Tensor encode(float[] values, int rows, int cols, WireDType dtype) {
        int count = rows * cols;
        ByteBuffer bytes;
        switch (dtype) {
            case WIRE_DTYPE_F32 -> {
                bytes = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(values, 0, count);
            }
            case WIRE_DTYPE_BF16 -> {
                bytes = ByteBuffer.allocate(2 * count).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < count; i++) {
                    bytes.putShort(2 * i, toBf16(values[i]));
                }
            }
            default -> throw new IllegalArgumentException("cannot encode tensors as " + dtype + "; use F32 or BF16");
        }
        return Tensor.newBuilder()
                .setDtype(dtype)
                .addShape(rows)
                .addShape(cols)
                .setData(UnsafeByteOperations.unsafeWrap(bytes.array()))
                .build();
    }

    /**
     * Decodes {@code tensor}, which must be {@code rows × cols}, into {@code out} from index 0.
     * Throws {@link IllegalArgumentException} naming what disagrees.
     */
    public static void decode(Tensor tensor, int rows, int cols, float[] out) {
        if (tensor.getShapeCount() != 2 || tensor.getShape(0) != rows || tensor.getShape(1) != cols) {
            throw new IllegalArgumentException("expected a " + rows + "x" + cols + " tensor, got shape "
                    + tensor.getShapeList());
        }
        int count = rows * cols;
        ByteString data = tensor.getData();
        ByteBuffer bytes = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        switch (tensor.getDtype()) {
            case WIRE_DTYPE_F32 -> {
                checkBytes(data, 4L * count, tensor);
                bytes.asFloatBuffer().get(out, 0, count);
            }
            case WIRE_DTYPE_BF16 -> {
                checkBytes(data, 2L * count, tensor);
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((bytes.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            default -> throw new IllegalArgumentException("unsupported tensor dtype " + tensor.getDtype()
                    + "; expected WIRE_DTYPE_F32 or WIRE_DTYPE_BF16");
        }
    }

    /** Rounds a float to bfloat16 (nearest, ties to even); NaN stays NaN. */
    static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static void checkBytes(ByteString data, long expected, Tensor tensor) {
        if (data.size() != expected) {
            throw new IllegalArgumentException("a " + tensor.getDtype() + " tensor of shape " + tensor.getShapeList()
                    + " needs " + expected + " bytes, got " + data.size());
        }
    }
}
