package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.config.GgufConfigReader;
import io.sparsemesh.core.config.HuggingFaceConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a checkpoint in any supported format, telling the format from the path and the file's first bytes. */
public final class Checkpoints {

    private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);

    private Checkpoints() {
    }

    /**
     * Opens {@code model}: a folder is a Hugging Face checkpoint ({@code config.json} and
     * safetensors), a file starting with {@code "GGUF"} is GGUF, a {@code .safetensors} file takes
     * its config from the {@code config.json} beside it, and a {@code .bin} file is llama2.c.
     * Only headers are read here; tensor bytes are mapped when requested.
     *
     * @param tokenizer a tokenizer file to record in the result, or null to look for one
     */
    public static ModelCheckpoint open(Path model, Path tokenizer) {
        if (!Files.exists(model)) {
            throw new CheckpointException("checkpoint " + model + " does not exist");
        }
        if (tokenizer != null && !Files.exists(tokenizer)) {
            throw new CheckpointException("tokenizer " + tokenizer + " does not exist");
        }
        ModelCheckpoint checkpoint;
        if (Files.isDirectory(model)) {
            checkpoint = openHuggingFace(model, model, tokenizer);
        } else if (GgufFile.hasMagic(model)) {
            checkpoint = openGguf(model, tokenizer);
        } else if (model.getFileName().toString().endsWith(".safetensors")) {
            checkpoint = openHuggingFace(model, model.toAbsolutePath().getParent(), tokenizer);
        } else if (model.getFileName().toString().endsWith(".bin")) {
            Llama2cTensorStore store = Llama2cTensorStore.open(model);
            checkpoint = new ModelCheckpoint(store.config(), store, CheckpointFormat.LLAMA2C, model, tokenizer);
        } else {
            throw new CheckpointException("cannot tell the format of " + model + ": expected a Hugging Face folder,"
                    + " a GGUF file, a .safetensors file or a llama2.c .bin file");
        }
        log.info("Opened {} checkpoint {} ({} tensors, {} layers, architecture {})", checkpoint.format(), model,
                checkpoint.store().tensorNames().size(), checkpoint.config().numLayers(), checkpoint.config().architecture());
        return checkpoint;
    }

    private static ModelCheckpoint openGguf(Path model, Path tokenizer) {
        GgufTensorStore store = GgufTensorStore.open(model);
        return checked(store, () -> new ModelCheckpoint(GgufConfigReader.read(store.gguf()), store, CheckpointFormat.GGUF,
                model, tokenizer != null ? tokenizer : model));
    }

    private static ModelCheckpoint openHuggingFace(Path model, Path folder, Path tokenizer) {
        ModelConfig config = HuggingFaceConfigReader.read(folder);
        int fp8Block = HuggingFaceConfigReader.fp8BlockSize(folder, MappedTensorStore.DEFAULT_FP8_BLOCK);
        SafetensorsTensorStore store = SafetensorsTensorStore.open(model, fp8Block);
        Path tokenizerJson = folder.resolve("tokenizer.json");
        Path found = tokenizer != null ? tokenizer : Files.exists(tokenizerJson) ? tokenizerJson : null;
        return checked(store, () -> new ModelCheckpoint(config, store, CheckpointFormat.SAFETENSORS, model, found));
    }

    /** Builds the checkpoint and checks the embedding shape against the config, closing {@code store} on failure. */
    private static ModelCheckpoint checked(TensorStore store, java.util.function.Supplier<ModelCheckpoint> build) {
        try {
            ModelCheckpoint checkpoint = build.get();
            checkEmbeddings(checkpoint);
            return checkpoint;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static void checkEmbeddings(ModelCheckpoint checkpoint) {
        String name = "model.embed_tokens.weight";
        TensorStore store = checkpoint.store();
        if (!store.contains(name)) {
            return; // a store may hold only some layers; the engine reports what it needs and lacks
        }
        TensorInfo info = store.info(name);
        long[] expected = {checkpoint.config().vocabSize(), checkpoint.config().hiddenSize()};
        if (!java.util.Arrays.equals(info.shape(), expected)) {
            throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has shape " + info.shapeString()
                    + " but the config of " + checkpoint.path() + " gives vocab_size × hidden_size = "
                    + java.util.Arrays.toString(expected) + "; the checkpoint and its config disagree");
        }
    }
}
