package io.sparsemesh.core.tiny;

import io.sparsemesh.core.checkpoint.SafetensorsWriter;
import io.sparsemesh.core.tiny.TinyTensors.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A tiny checkpoint written in the Hugging Face layout: {@code config.json},
 * {@code generation_config.json}, and {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}. It keeps what it wrote, so tests can compare what the
 * engine reads with the original values.
 *
 * @param folder  where the files are
 * @param config  the {@code config.json} contents
 * @param tensors the weights as generated, before rounding to the storage type
 * @param storage how the tensors are stored
 * @param fp8     the FP8 tensors by name, as written
 */
record TinyCheckpoint(Path folder, Map<String, Object> config, TinyTensors tensors, Storage storage,
                      Map<String, Fp8Weight> fp8) {

    /**
     * One FP8 weight as written: E4M3 patterns in row-major order and its {@code weight_scale_inv}
     * of {@code scaleRows × scaleCols} F32 scales, one per 128 × 128 block (edge blocks partial).
     */
    record Fp8Weight(byte[] bits, float[] scales, int scaleRows, int scaleCols) {
    }

    /**
     * Writes {@code tensors} into {@code folder} in {@code storage}, in one file or, when
     * {@code shards > 1}, in that many shards split by layer.
     */
    static TinyCheckpoint write(Path folder, Map<String, Object> config, TinyTensors tensors, Storage storage,
                                int shards) throws IOException {
        Files.createDirectories(folder);
        int layers = ((Number) config.get("num_hidden_layers")).intValue();
        List<SafetensorsWriter> writers = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            writers.add(new SafetensorsWriter());
        }
        Map<String, Fp8Weight> fp8 = new LinkedHashMap<>();

        for (Tensor tensor : tensors.all().values()) {
            SafetensorsWriter writer = writers.get(shardOf(tensor.name(), layers, shards));
            if (storage.quantises(tensor.name(), tensor.shape().length)) {
                Fp8Weight weight = quantise(tensor);
                fp8.put(tensor.name(), weight);
                writer.fp8(tensor.name(), tensor.shape(), weight.bits());
                writer.f32(tensor.name() + "_scale_inv", new long[] {weight.scaleRows(), weight.scaleCols()},
                        weight.scales());
            } else if (storage.plainDtype(tensor.name()).equals("F32")) {
                writer.f32(tensor.name(), tensor.shape(), tensor.values());
            } else {
                writer.bf16(tensor.name(), tensor.shape(), tensor.values());
            }
        }

        if (shards == 1) {
            writers.getFirst().write(folder.resolve("model.safetensors"));
        } else {
            SafetensorsWriter.writeSharded(folder, writers);
        }
        writeConfigs(folder, config);
        return new TinyCheckpoint(folder, Collections.unmodifiableMap(config), tensors, storage,
                Collections.unmodifiableMap(fp8));
    }

    /**
     * Copies this checkpoint's weight files into {@code target} with a {@code config.json} that
     * {@code edit} changes: the same weights under another configuration.
     */
    TinyCheckpoint withConfig(Path target, Consumer<Map<String, Object>> edit) throws IOException {
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(f -> !f.getFileName().toString().endsWith("config.json")).toList()) {
                Files.copy(file, target.resolve(file.getFileName()));
            }
        }
        Map<String, Object> edited = new LinkedHashMap<>(config);
        edit.accept(edited);
        writeConfigs(target, edited);
        return new TinyCheckpoint(target, Collections.unmodifiableMap(edited), tensors, storage, fp8);
    }

    /** Shard of a tensor: layers spread evenly over the shards, embeddings in the first, the head in the last. */
    private static int shardOf(String name, int layers, int shards) {
        String layerPrefix = "model.layers.";
        if (name.startsWith(layerPrefix)) {
            int end = name.indexOf('.', layerPrefix.length());
            int layer = Integer.parseInt(name.substring(layerPrefix.length(), end));
            return layer * shards / layers;
        }
        return name.startsWith("model.embed_tokens") ? 0 : shards - 1;
    }

    /** Quantises like DeepSeek's FP8 conversion: per block, scale = max |w| / 448 and bits = E4M3(w / scale). */
    private static Fp8Weight quantise(Tensor tensor) {
        int rows = tensor.rows();
        int cols = tensor.cols();
        int block = Storage.FP8_BLOCK;
        int scaleRows = (rows + block - 1) / block;
        int scaleCols = (cols + block - 1) / block;
        float[] values = tensor.values();

        // one scale per block from its largest magnitude
        float[] scales = new float[scaleRows * scaleCols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int index = (r / block) * scaleCols + c / block;
                scales[index] = Math.max(scales[index], Math.abs(values[r * cols + c]));
            }
        }
        for (int i = 0; i < scales.length; i++) {
            scales[i] = scales[i] == 0 ? 1 : scales[i] / E4m3.MAX;
        }

        // every value divided by its block's scale and rounded to E4M3
        byte[] bits = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float scale = scales[(r / block) * scaleCols + c / block];
                bits[r * cols + c] = E4m3.encode(values[r * cols + c] / scale);
            }
        }
        return new Fp8Weight(bits, scales, scaleRows, scaleCols);
    }

    /** Writes {@code config.json} and the {@code generation_config.json} that {@code save_pretrained} derives from it. */
    private static void writeConfigs(Path folder, Map<String, Object> config) throws IOException {
        Map<String, Object> generation = new LinkedHashMap<>();
        generation.put("_from_model_config", true);
        generation.put("bos_token_id", config.get("bos_token_id"));
        generation.put("eos_token_id", config.get("eos_token_id"));
        generation.put("transformers_version", config.get("transformers_version"));
        Path written = SafetensorsWriter.writeConfig(folder, generation);
        Files.move(written, folder.resolve("generation_config.json"));
        SafetensorsWriter.writeConfig(folder, config);
    }
}
