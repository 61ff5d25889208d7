package io.sparsemesh.core.checkpoint;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes tiny safetensors checkpoints for tests, independently of {@link SafetensorsTensorStore}:
 * single files, sharded folders with {@code model.safetensors.index.json}, and {@code config.json}.
 * Tensors are written in the order they are added; shapes are in PyTorch order.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .f32("model.norm.weight", new long[] {64}, norm)
 *         .bf16("lm_head.weight", new long[] {256, 64}, logits)
 *         .write(dir.resolve("model.safetensors"));
 * SafetensorsWriter.writeConfig(dir, Map.of("architectures", List.of("LlamaForCausalLM"), ...));
 * }</pre>
 */
public final class SafetensorsWriter {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private record Tensor(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Tensor> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>(Map.of("format", "pt"));

    public SafetensorsWriter f32(String name, long[] shape, float[] values) {
        ByteBuffer bytes = little(4 * values.length);
        for (float value : values) {
            bytes.putFloat(value);
        }
        return raw(name, "F32", shape, bytes.array());
    }

    /** Adds a BF16 tensor, rounding each value to the nearest BF16 (ties to even). */
    public SafetensorsWriter bf16(String name, long[] shape, float[] values) {
        ByteBuffer bytes = little(2 * values.length);
        for (float value : values) {
            bytes.putShort(toBf16(value));
        }
        return raw(name, "BF16", shape, bytes.array());
    }

    public SafetensorsWriter f16(String name, long[] shape, float[] values) {
        ByteBuffer bytes = little(2 * values.length);
        for (float value : values) {
            bytes.putShort(Float.floatToFloat16(value));
        }
        return raw(name, "F16", shape, bytes.array());
    }

    /** Adds an F8_E4M3 tensor from raw FP8 bit patterns. */
    public SafetensorsWriter fp8(String name, long[] shape, byte[] bits) {
        return raw(name, "F8_E4M3", shape, bits.clone());
    }

    public SafetensorsWriter i64(String name, long[] shape, long[] values) {
        ByteBuffer bytes = little(8 * values.length);
        for (long value : values) {
            bytes.putLong(value);
        }
        return raw(name, "I64", shape, bytes.array());
    }

    /** Adds a tensor with any dtype string and raw little-endian bytes (no check that they fit the shape). */
    public SafetensorsWriter raw(String name, String dtype, long[] shape, byte[] data) {
        tensors.add(new Tensor(name, dtype, shape.clone(), data));
        return this;
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public List<String> names() {
        return tensors.stream().map(Tensor::name).toList();
    }

    public Path write(Path file) throws IOException {
        Files.write(file, toBytes());
        return file;
    }

    public byte[] toBytes() {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Tensor tensor : tensors) {
            ObjectNode entry = header.putObject(tensor.name());
            entry.put("dtype", tensor.dtype());
            var shape = entry.putArray("shape");
            for (long dim : tensor.shape()) {
                shape.add(dim);
            }
            entry.putArray("data_offsets").add(offset).add(offset + tensor.data().length);
            offset += tensor.data().length;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padding = (8 - json.length % 8) % 8;
        ByteBuffer out = little(8 + json.length + padding + (int) offset);
        out.putLong(json.length + padding);
        out.put(json);
        for (int i = 0; i < padding; i++) {
            out.put((byte) ' ');
        }
        for (Tensor tensor : tensors) {
            out.put(tensor.data());
        }
        return out.array();
    }

    /**
     * Writes {@code shards} as {@code model-0000i-of-0000n.safetensors} into {@code folder}, with a
     * {@code model.safetensors.index.json} whose {@code weight_map} names each tensor's shard.
     */
    public static void writeSharded(Path folder, List<SafetensorsWriter> shards) throws IOException {
        ObjectNode index = JSON.createObjectNode();
        long totalSize = 0;
        ObjectNode weightMap = JSON.createObjectNode();
        for (int i = 0; i < shards.size(); i++) {
            String fileName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            byte[] bytes = shards.get(i).toBytes();
            Files.write(folder.resolve(fileName), bytes);
            totalSize += bytes.length;
            for (String name : shards.get(i).names()) {
                weightMap.put(name, fileName);
            }
        }
        index.putObject("metadata").put("total_size", totalSize);
        index.set("weight_map", weightMap);
        Files.writeString(folder.resolve(SafetensorsTensorStore.INDEX_FILE), JSON.writeValueAsString(index));
    }

    /** Writes {@code config} (maps, lists, strings, numbers, booleans, nulls) as {@code folder/config.json}. */
    public static Path writeConfig(Path folder, Map<String, ?> config) throws IOException {
        Path file = folder.resolve("config.json");
        try (OutputStream out = Files.newOutputStream(file)) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(out, config);
        }
        return file;
    }

    /** Rounds {@code value} to the nearest BF16 bit pattern, ties to even; NaN stays NaN. */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Returns the float that BF16 pattern {@code bits} stands for. */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    private static ByteBuffer little(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
