package io.sparsemesh.core.engine;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The single-process engine: a whole model loaded in this JVM, its tokenizer, and a
 * {@link Scheduler} that batches generations over it.
 */
public final class LocalEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalEngine.class);

    /** Context used when the model declares a longer one, so that caches stay small by default. */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    private final ModelConfig config;
    private final TensorStore store;
    private final Tokenizer tokenizer;
    private final Scheduler scheduler;

    public LocalEngine(ModelConfig config, TensorStore store, Tokenizer tokenizer, EngineOptions options) {
        this.config = config;
        this.store = store;
        this.tokenizer = tokenizer;
        Transformer transformer = TransformerLoader.loadLocal(config, store, options.contextLength());
        this.scheduler = new Scheduler(transformer, options);
        log.info("Loaded {} ({} layers, hidden {}) from {}: {} MiB mapped", config.architecture(), config.numLayers(),
                config.hiddenSize(), store.location(), store.mappedBytes() >> 20);
    }

    /**
     * Opens a GGUF file, a llama2.c {@code .bin} checkpoint or a Hugging Face folder.
     *
     * @param tokenizer     tokenizer file for checkpoints that carry none, or null
     * @param contextLength context in tokens, or null for the model's (at most {@link #DEFAULT_MAX_CONTEXT})
     */
    public static LocalEngine open(Path model, Path tokenizer, Integer contextLength) {
        ModelCheckpoint checkpoint = Checkpoints.open(model, tokenizer);
        try {
            ModelConfig config = checkpoint.config();
            int context = contextLength != null ? contextLength
                    : Math.min(config.maxPositionEmbeddings(), DEFAULT_MAX_CONTEXT);
            Tokenizer vocabulary = checkpoint.tokenizer() == null ? null : Tokenizers.open(checkpoint.tokenizer());
            return new LocalEngine(config, checkpoint.store(), vocabulary, EngineOptions.defaults(context));
        } catch (RuntimeException e) {
            checkpoint.store().close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The model's tokenizer, or null when the checkpoint has none and none was given. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public void close() {
        scheduler.close();
        store.close();
    }
}
