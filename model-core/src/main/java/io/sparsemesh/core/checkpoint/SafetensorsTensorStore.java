package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Tensors of one safetensors file or of a Hugging Face folder of shards. A safetensors file is an
 * 8-byte little-endian header length, a JSON header mapping each tensor name to its {@code dtype},
 * {@code shape} and {@code data_offsets} (relative to the end of the header), and the data. The
 * {@code __metadata__} entry is ignored. Sharded folders list each tensor's shard in the
 * {@code weight_map} of {@code model.safetensors.index.json}.
 *
 * <p>Readable dtypes are F32, F16, BF16, F8_E4M3 (dequantised with its {@code weight_scale_inv}
 * blocks), I32 and I64. Tensors of other dtypes are listed, and a request for one fails.
 */
public final class SafetensorsTensorStore extends MappedTensorStore {

    private static final Logger log = LoggerFactory.getLogger(SafetensorsTensorStore.class);

    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";
    /** The safetensors format caps headers at 100 MB. */
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Map<String, DType> DTYPES = Map.of(
            "F32", DType.F32,
            "F16", DType.F16,
            "BF16", DType.BF16,
            "F8_E4M3", DType.F8_E4M3,
            "I32", DType.I32,
            "I64", DType.I64);

    private SafetensorsTensorStore(Path location, int fp8BlockSize) {
        super(location, fp8BlockSize);
    }

    /**
     * Opens a safetensors file, or a folder with {@code model.safetensors.index.json}, with
     * {@code model.safetensors}, or with other {@code *.safetensors} files (all of them are read).
     * FP8 weights use 128 × 128 scale blocks.
     */
    public static SafetensorsTensorStore open(Path fileOrFolder) {
        return open(fileOrFolder, DEFAULT_FP8_BLOCK);
    }

    /** Opens like {@link #open(Path)}, with {@code fp8BlockSize} × {@code fp8BlockSize} FP8 scale blocks. */
    public static SafetensorsTensorStore open(Path fileOrFolder, int fp8BlockSize) {
        SafetensorsTensorStore store = new SafetensorsTensorStore(fileOrFolder, fp8BlockSize);
        if (!Files.isDirectory(fileOrFolder)) {
            store.addFile(fileOrFolder, null);
        } else if (Files.exists(fileOrFolder.resolve(INDEX_FILE))) {
            store.addShards(fileOrFolder.resolve(INDEX_FILE));
        } else if (Files.exists(fileOrFolder.resolve(SINGLE_FILE))) {
            store.addFile(fileOrFolder.resolve(SINGLE_FILE), null);
        } else {
            List<Path> files = safetensorsFiles(fileOrFolder);
            if (files.isEmpty()) {
                throw new CheckpointException("folder " + fileOrFolder + " has no " + INDEX_FILE + ", no " + SINGLE_FILE
                        + " and no other *.safetensors file");
            }
            for (Path file : files) {
                store.addFile(file, null);
            }
        }
        log.debug("Opened safetensors checkpoint {} with {} tensors", fileOrFolder, store.tensorNames().size());
        return store;
    }

    private static List<Path> safetensorsFiles(Path folder) {
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.filter(path -> path.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private void addShards(Path index) {
        JsonNode weightMap = readJson(index).path("weight_map");
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException("index " + index + " has no weight_map object mapping tensor names to shard files");
        }
        Map<String, Set<String>> namesByShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            namesByShard.computeIfAbsent(entry.getValue().asString(), shard -> new TreeSet<>()).add(entry.getKey());
        }
        for (Map.Entry<String, Set<String>> shard : namesByShard.entrySet()) {
            Path file = index.resolveSibling(shard.getKey());
            if (!Files.exists(file)) {
                throw new CheckpointException("shard " + file + " named in " + index + " for tensors such as '"
                        + shard.getValue().iterator().next() + "' does not exist");
            }
            addFile(file, shard.getValue());
        }
    }

    /** Lists the tensors of {@code file}; with {@code expected} non-null, fails unless the file contains each of them. */
    private void addFile(Path file, Set<String> expected) {
        Header header = readHeader(file);
        JsonNode json = header.json();
        List<String> absent = new ArrayList<>();
        if (expected != null) {
            for (String name : expected) {
                if (!json.has(name)) {
                    absent.add(name);
                }
            }
        }
        if (!absent.isEmpty()) {
            throw new CheckpointException("shard " + file + " lacks tensors that the index maps to it: " + absent);
        }
        for (Map.Entry<String, JsonNode> entry : json.properties()) {
            if (!entry.getKey().equals("__metadata__")) {
                addTensor(file, header, entry.getKey(), entry.getValue());
            }
        }
    }

    private void addTensor(Path file, Header header, String name, JsonNode entry) {
        String dtypeName = entry.path("dtype").asString("");
        JsonNode shapeNode = entry.path("shape");
        JsonNode offsets = entry.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException("safetensors file " + file + ": header entry of tensor '" + name
                    + "' needs dtype, shape and data_offsets [begin, end]; it is " + entry);
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            if (shape[i] < 0) {
                throw new CheckpointException("safetensors file " + file + ": tensor '" + name + "' has negative shape "
                        + shapeNode);
            }
            elements = Math.multiplyExact(elements, shape[i]);
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new CheckpointException("safetensors file " + file + ": tensor '" + name + "' has invalid data_offsets "
                    + offsets);
        }
        if (end > header.dataSize()) {
            throw new CheckpointException("safetensors file " + file + " is truncated: tensor '" + name
                    + "' ends at data byte " + end + " but the file holds only " + header.dataSize()
                    + " bytes of data after its header");
        }

        DType dtype = DTYPES.get(dtypeName);
        if (dtype == null) {
            addUnreadable(name, file, "tensor '" + name + "' in " + file + " has dtype " + dtypeName
                    + ", which this reader does not support; supported dtypes: " + new TreeSet<>(DTYPES.keySet())
                    + ". Convert the checkpoint to one of them");
            return;
        }
        if (dtype.bytesFor(elements) != end - begin) {
            throw new CheckpointException("safetensors file " + file + ": tensor '" + name + "' of " + dtypeName
                    + " and shape " + shapeNode + " needs " + dtype.bytesFor(elements) + " bytes but its data_offsets "
                    + offsets + " span " + (end - begin));
        }
        add(new TensorInfo(name, dtype, shape, file, header.dataStart() + begin, end - begin));
    }

    private record Header(JsonNode json, long dataStart, long dataSize) {
    }

    private static Header readHeader(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(channel, lengthBytes, 0)) {
                throw new CheckpointException("safetensors file " + file + " has " + fileSize
                        + " bytes, fewer than the 8-byte header length; the file is truncated");
            }
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
                throw new CheckpointException("safetensors file " + file + " declares a header of " + headerLength
                        + " bytes but has " + fileSize + " bytes in all; it is truncated or not a safetensors file");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            if (!readFully(channel, headerBytes, 8)) {
                throw new CheckpointException("safetensors file " + file + " ends inside its header");
            }
            JsonNode json = parse(file, new String(headerBytes.array(), StandardCharsets.UTF_8));
            return new Header(json, 8 + headerLength, fileSize - 8 - headerLength);
        } catch (IOException e) {
            throw new CheckpointException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Fills {@code buffer} from file offset {@code position}; returns false when the file ends first. */
    private static boolean readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                return false;
            }
        }
        return true;
    }

    private static JsonNode readJson(Path file) {
        try {
            return parse(file, Files.readString(file));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode parse(Path file, String text) {
        try {
            JsonNode json = JSON.readTree(text);
            if (!json.isObject()) {
                throw new CheckpointException("the JSON of " + file + " is not an object");
            }
            return json;
        } catch (JacksonException e) {
            throw new CheckpointException("the JSON header of " + file + " is invalid: " + e.getOriginalMessage(), e);
        }
    }
}
