package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a GGUF file (versions 2 and 3): metadata key/value pairs, tensor infos and the
 * offset of the data section. Opening reads only the header, through a small buffer; tensor data
 * is mapped later, one tensor at a time, by the GGUF tensor store.
 *
 * <p>Layout, all little-endian: magic {@code "GGUF"}, uint32 version, uint64 tensor count, uint64
 * metadata count, the metadata pairs (string key, uint32 value type, value), the tensor infos
 * (string name, uint32 dimension count, uint64 dimensions innermost first, uint32 ggml type,
 * uint64 offset), then padding to {@code general.alignment} (default 32) and the data section.
 * Strings are a uint64 length followed by UTF-8 bytes.
 */
public final class GgufFile {

    /** {@code "GGUF"} read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final String ARCHITECTURE_KEY = "general.architecture";

    /** Guards against corrupt headers: ggml itself caps tensor dimensions at 4. */
    private static final int MAX_DIMS = 4;
    private static final int MAX_NESTING = 16;

    private final Path path;
    private final int version;
    private final long fileSize;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, int version, long fileSize, Map<String, GgufValue> metadata,
                     Map<String, GgufTensor> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.version = version;
        this.fileSize = fileSize;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Reads the header of the GGUF file at {@code path}; throws {@link CheckpointException} when it is not valid GGUF v2/v3. */
    public static GgufFile read(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(path, channel);
        } catch (IOException e) {
            throw new CheckpointException("cannot read GGUF file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Returns true when {@code path} starts with the GGUF magic. */
    public static boolean hasMagic(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return channel.size() >= 4 && new HeaderReader(path, channel, 0).i32("magic") == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    private static GgufFile read(Path path, FileChannel channel) throws IOException {
        HeaderReader in = new HeaderReader(path, channel, 0);
        int magic = in.i32("the GGUF magic");
        if (magic != MAGIC) {
            throw new CheckpointException("file " + path + " is not a GGUF file: it starts with bytes "
                    + String.format("%08x", Integer.reverseBytes(magic)) + ", expected 47475546 (\"GGUF\")");
        }
        int version = in.i32("the GGUF version");
        checkVersion(path, version);

        long tensorCount = in.i64("the tensor count");
        long metadataCount = in.i64("the metadata count");
        // every pair has at least an 8-byte key length and a 4-byte type; every tensor info at least 8 + 4 + 4 + 8
        in.requireRoom(metadataCount, 12, "metadata pairs");
        in.requireRoom(tensorCount, 24, "tensor infos");

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < metadataCount; i++) {
            String key = in.utf8(in.i64("a metadata key length"), "a metadata key");
            GgufValueType type = valueType(path, in.i32("the type of '" + key + "'"), key);
            metadata.put(key, readValue(path, in, type, key, 0));
        }

        int alignment = alignmentOf(path, metadata);

        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensor tensor = readTensorInfo(path, in);
            if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
                throw new CheckpointException("GGUF file " + path + " lists tensor '" + tensor.name() + "' twice");
            }
        }

        long dataOffset = alignUp(in.position(), alignment);
        GgufFile file = new GgufFile(path, version, in.fileSize(), metadata, tensors, alignment, dataOffset);
        file.checkTensorsFit();
        return file;
    }

    private static void checkVersion(Path path, int version) {
        if (version == 1) {
            throw new CheckpointException("GGUF file " + path + " is version 1, which is not supported (it uses 32-bit"
                    + " counts and lengths); convert the model again with a current llama.cpp to get version 3");
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (it looks big-endian, which is not supported)" : "";
            throw new CheckpointException("GGUF file " + path + " has version " + Integer.toUnsignedString(version)
                    + hint + "; supported versions are 2 and 3");
        }
    }

    private static GgufValueType valueType(Path path, int id, String key) {
        GgufValueType type = GgufValueType.fromId(id);
        if (type == null) {
            throw new CheckpointException("GGUF file " + path + ": metadata key '" + key + "' has unknown value type "
                    + id + "; valid types are 0 to 12");
        }
        return type;
    }

    private static GgufValue readValue(Path path, HeaderReader in, GgufValueType type, String key, int depth)
            throws IOException {
        String what = "the value of '" + key + "'";
        return switch (type) {
            case UINT8 -> new GgufValue(type, (long) in.u8(what));
            case INT8 -> new GgufValue(type, (long) (byte) in.u8(what));
            case UINT16 -> new GgufValue(type, (long) (in.i16(what) & 0xFFFF));
            case INT16 -> new GgufValue(type, (long) in.i16(what));
            case UINT32 -> new GgufValue(type, in.i32(what) & 0xFFFF_FFFFL);
            case INT32 -> new GgufValue(type, (long) in.i32(what));
            case UINT64, INT64 -> new GgufValue(type, in.i64(what));
            case FLOAT32 -> new GgufValue(type, in.f32(what));
            case FLOAT64 -> new GgufValue(type, in.f64(what));
            case BOOL -> new GgufValue(type, in.u8(what) != 0);
            case STRING -> new GgufValue(type, in.utf8(in.i64(what), what));
            case ARRAY -> new GgufValue(type, readArray(path, in, key, depth));
        };
    }

    private static GgufArray readArray(Path path, HeaderReader in, String key, int depth) throws IOException {
        if (depth >= MAX_NESTING) {
            throw new CheckpointException("GGUF file " + path + ": metadata key '" + key + "' nests arrays deeper than "
                    + MAX_NESTING + " levels; the header is corrupt");
        }
        String what = "the array of '" + key + "'";
        GgufValueType elementType = valueType(path, in.i32(what), key);
        long count = in.i64(what);
        int minBytes = elementType.byteSize() > 0 ? elementType.byteSize() : 8;
        in.requireRoom(count, minBytes, elementType + " elements of '" + key + "'");
        if (count > Integer.MAX_VALUE - 8) {
            throw new CheckpointException("GGUF file " + path + ": metadata array '" + key + "' has " + count
                    + " elements, more than a Java array holds");
        }
        int n = (int) count;
        Object elements = switch (elementType) {
            case UINT8, INT8, BOOL -> {
                byte[] values = new byte[n];
                for (int i = 0; i < n; i++) {
                    values[i] = (byte) in.u8(what);
                }
                yield values;
            }
            case UINT16, INT16 -> {
                short[] values = new short[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.i16(what);
                }
                yield values;
            }
            case UINT32, INT32 -> {
                int[] values = new int[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.i32(what);
                }
                yield values;
            }
            case UINT64, INT64 -> {
                long[] values = new long[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.i64(what);
                }
                yield values;
            }
            case FLOAT32 -> {
                float[] values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.f32(what);
                }
                yield values;
            }
            case FLOAT64 -> {
                double[] values = new double[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.f64(what);
                }
                yield values;
            }
            case STRING -> {
                String[] values = new String[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.utf8(in.i64(what), what);
                }
                yield values;
            }
            case ARRAY -> {
                GgufArray[] values = new GgufArray[n];
                for (int i = 0; i < n; i++) {
                    values[i] = readArray(path, in, key + "[" + i + "]", depth + 1);
                }
                yield values;
            }
        };
        return new GgufArray(elementType, elements);
    }

    private static GgufTensor readTensorInfo(Path path, HeaderReader in) throws IOException {
        String name = in.utf8(in.i64("a tensor name length"), "a tensor name");
        int nDims = in.i32("the dimension count of tensor '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw new CheckpointException("GGUF file " + path + ": tensor '" + name + "' has " + nDims
                    + " dimensions; GGUF tensors have 1 to " + MAX_DIMS);
        }
        long[] dims = new long[nDims];
        for (int d = 0; d < nDims; d++) {
            dims[d] = in.i64("dimension " + d + " of tensor '" + name + "'");
            if (dims[d] <= 0) {
                throw new CheckpointException("GGUF file " + path + ": tensor '" + name + "' has dimension " + d
                        + " = " + Long.toUnsignedString(dims[d]) + "; dimensions must be positive");
            }
        }
        int type = in.i32("the type of tensor '" + name + "'");
        long offset = in.i64("the offset of tensor '" + name + "'");
        return new GgufTensor(name, dims, type, offset);
    }

    private static int alignmentOf(Path path, Map<String, GgufValue> metadata) {
        GgufValue value = metadata.get(ALIGNMENT_KEY);
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        long alignment = value.type().isInteger() ? value.asLong() : -1;
        if (alignment <= 0 || alignment > (1 << 30) || Long.bitCount(alignment) != 1) {
            throw new CheckpointException("GGUF file " + path + ": " + ALIGNMENT_KEY + " is " + value
                    + "; it must be a positive power of two");
        }
        return (int) alignment;
    }

    private void checkTensorsFit() {
        for (GgufTensor tensor : tensors.values()) {
            DType dtype = tensor.dtype();
            if (dtype == null) {
                continue; // rejected only when a caller requests it, so the rest of the file stays usable
            }
            if (tensor.ggufDims()[0] % dtype.blockSize() != 0) {
                throw new CheckpointException("GGUF file " + path + ": tensor '" + tensor.name() + "' has rows of "
                        + tensor.ggufDims()[0] + " elements, not a multiple of the " + dtype + " block of "
                        + dtype.blockSize());
            }
            if (tensor.relativeOffset() % alignment != 0) {
                throw new CheckpointException("GGUF file " + path + ": tensor '" + tensor.name() + "' starts at data offset "
                        + tensor.relativeOffset() + ", not a multiple of the alignment " + alignment);
            }
            long end = dataOffset + tensor.relativeOffset() + dtype.bytesFor(tensor.elementCount());
            if (tensor.relativeOffset() < 0 || end > fileSize) {
                throw new CheckpointException("GGUF file " + path + " is truncated: tensor '" + tensor.name()
                        + "' needs bytes up to " + end + " but the file has " + fileSize);
            }
        }
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long fileSize() {
        return fileSize;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section, to which tensor offsets are relative. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Metadata in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Tensor infos in file order, under their llama.cpp names. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** Returns {@code general.architecture}, e.g. {@code llama} or {@code deepseek2}. */
    public String architecture() {
        return getString(ARCHITECTURE_KEY);
    }

    public boolean contains(String key) {
        return metadata.containsKey(key);
    }

    /** Returns the value of {@code key}; throws {@link CheckpointException} when it is missing. */
    public GgufValue get(String key) {
        GgufValue value = metadata.get(key);
        if (value == null) {
            throw new CheckpointException("GGUF file " + path + " has no metadata key '" + key + "'"
                    + similarKeys(key));
        }
        return value;
    }

    public String getString(String key) {
        return convert(key, get(key), GgufValue::asString);
    }

    public String getString(String key, String defaultValue) {
        return contains(key) ? getString(key) : defaultValue;
    }

    /** Returns an integer value of any integer type that fits in an int. */
    public int getInt(String key) {
        return convert(key, get(key), GgufValue::asInt);
    }

    public int getInt(String key, int defaultValue) {
        return contains(key) ? getInt(key) : defaultValue;
    }

    public long getLong(String key) {
        return convert(key, get(key), GgufValue::asLong);
    }

    /** Returns a numeric value (FLOAT32, FLOAT64 or an integer type) as a float. */
    public float getFloat(String key) {
        return convert(key, get(key), GgufValue::asFloat);
    }

    public float getFloat(String key, float defaultValue) {
        return contains(key) ? getFloat(key) : defaultValue;
    }

    public double getDouble(String key) {
        return convert(key, get(key), GgufValue::asDouble);
    }

    public double getDouble(String key, double defaultValue) {
        return contains(key) ? getDouble(key) : defaultValue;
    }

    public boolean getBoolean(String key) {
        return convert(key, get(key), GgufValue::asBoolean);
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        return contains(key) ? getBoolean(key) : defaultValue;
    }

    public GgufArray getArray(String key) {
        return convert(key, get(key), GgufValue::asArray);
    }

    public String[] getStringArray(String key) {
        return convert(key, get(key), value -> value.asArray().toStringArray());
    }

    /** Returns a numeric array as floats; FLOAT64 and integer elements are converted. */
    public float[] getFloatArray(String key) {
        return convert(key, get(key), value -> value.asArray().toFloatArray());
    }

    /** Returns an integer array as ints, failing when an element does not fit. */
    public int[] getIntArray(String key) {
        return convert(key, get(key), value -> value.asArray().toIntArray());
    }

    public long[] getLongArray(String key) {
        return convert(key, get(key), value -> value.asArray().toLongArray());
    }

    private <T> T convert(String key, GgufValue value, java.util.function.Function<GgufValue, T> conversion) {
        try {
            return conversion.apply(value);
        } catch (IllegalStateException e) {
            throw new CheckpointException("GGUF file " + path + ": metadata key '" + key + "': " + e.getMessage(), e);
        }
    }

    private String similarKeys(String key) {
        int dot = key.indexOf('.');
        String prefix = dot > 0 ? key.substring(0, dot + 1) : key;
        List<String> similar = metadata.keySet().stream().filter(k -> k.startsWith(prefix)).limit(12).toList();
        return similar.isEmpty() ? "" : "; keys with prefix '" + prefix + "': " + similar;
    }

    @Override
    public String toString() {
        return "GGUF v" + version + " " + path + " (" + metadata.size() + " metadata keys, " + tensors.size() + " tensors)";
    }
}
