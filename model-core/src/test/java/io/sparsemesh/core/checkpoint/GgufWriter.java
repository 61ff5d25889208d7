package io.sparsemesh.core.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small GGUF files for tests, independently of {@link GgufFile}: metadata of any value
 * type (arrays are {@link Array} values, nested as deep as wanted) and tensors with raw bytes.
 */
public final class GgufWriter {

    /** An array value: element type and elements (Number, Boolean, String or nested Array). */
    public record Array(GgufValueType elementType, List<?> elements) {
    }

    private record Entry(String key, GgufValueType type, Object value) {
    }

    private record Tensor(String name, int ggmlType, long[] ggufDims, byte[] data) {
    }

    private final List<Entry> metadata = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int version = 3;
    private int magic = GgufFile.MAGIC;
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    public GgufWriter version(int version) {
        this.version = version;
        return this;
    }

    public GgufWriter magic(int magic) {
        this.magic = magic;
        return this;
    }

    public GgufWriter put(String key, GgufValueType type, Object value) {
        metadata.add(new Entry(key, type, value));
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            alignment = ((Number) value).intValue();
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putArray(String key, GgufValueType elementType, List<?> elements) {
        return put(key, GgufValueType.ARRAY, new Array(elementType, elements));
    }

    /** Adds a tensor; {@code ggufDims} are innermost first, as GGUF stores them. */
    public GgufWriter tensor(String name, int ggmlType, long[] ggufDims, byte[] data) {
        tensors.add(new Tensor(name, ggmlType, ggufDims, data));
        return this;
    }

    /** Adds an F32 tensor from floats; {@code ggufDims} are innermost first. */
    public GgufWriter tensorF32(String name, long[] ggufDims, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            bytes.putFloat(value);
        }
        return tensor(name, 0, ggufDims, bytes.array());
    }

    public Path write(Path file) throws IOException {
        Files.write(file, toBytes());
        return file;
    }

    public byte[] toBytes() {
        Out out = new Out();
        out.u32(magic);
        out.u32(version);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Entry entry : metadata) {
            out.string(entry.key());
            out.u32(entry.type().id());
            writeValue(out, entry.type(), entry.value());
        }

        long[] offsets = new long[tensors.size()];
        long next = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = next;
            next = align(next + tensors.get(i).data().length);
        }

        for (int i = 0; i < tensors.size(); i++) {
            Tensor tensor = tensors.get(i);
            out.string(tensor.name());
            out.u32(tensor.ggufDims().length);
            for (long dim : tensor.ggufDims()) {
                out.u64(dim);
            }
            out.u32(tensor.ggmlType());
            out.u64(offsets[i]);
        }

        out.padTo(align(out.size()));
        long dataStart = out.size();
        for (int i = 0; i < tensors.size(); i++) {
            out.padTo(dataStart + offsets[i]);
            out.bytes(tensors.get(i).data());
        }
        return out.toByteArray();
    }

    private long align(long offset) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static void writeValue(Out out, GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8 -> out.u8(((Number) value).intValue());
            case BOOL -> out.u8((Boolean) value ? 1 : 0);
            case UINT16, INT16 -> out.u16(((Number) value).intValue());
            case UINT32, INT32 -> out.u32(((Number) value).intValue());
            case UINT64, INT64 -> out.u64(((Number) value).longValue());
            case FLOAT32 -> out.u32(Float.floatToRawIntBits(((Number) value).floatValue()));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits(((Number) value).doubleValue()));
            case STRING -> out.string((String) value);
            case ARRAY -> {
                Array array = (Array) value;
                out.u32(array.elementType().id());
                out.u64(array.elements().size());
                for (Object element : array.elements()) {
                    writeValue(out, array.elementType(), element);
                }
            }
        }
    }

    private static final class Out extends ByteArrayOutputStream {

        void u8(int value) {
            write(value);
        }

        void u16(int value) {
            write(value);
            write(value >>> 8);
        }

        void u32(int value) {
            for (int shift = 0; shift < 32; shift += 8) {
                write(value >>> shift);
            }
        }

        void u64(long value) {
            for (int shift = 0; shift < 64; shift += 8) {
                write((int) (value >>> shift));
            }
        }

        void string(String value) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            u64(utf8.length);
            bytes(utf8);
        }

        void bytes(byte[] data) {
            write(data, 0, data.length);
        }

        void padTo(long offset) {
            while (size() < offset) {
                write(0);
            }
        }
    }
}
