package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.config.ModelConfig;

import java.nio.file.Path;

/**
 * An opened checkpoint: its model config, its tensors, the format they were read from and the
 * path that was opened. Closing it closes the store.
 *
 * @param tokenizer the tokenizer file to use, or null when none was given or found: the path given
 *                  to {@link Checkpoints#open}, else the GGUF file itself (its {@code tokenizer.ggml.*}
 *                  metadata), else {@code tokenizer.json} of a Hugging Face folder
 */
public record ModelCheckpoint(ModelConfig config, TensorStore store, CheckpointFormat format, Path path, Path tokenizer)
        implements AutoCloseable {

    @Override
    public void close() {
        store.close();
    }
}
