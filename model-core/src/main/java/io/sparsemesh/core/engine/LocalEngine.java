package io.sparsemesh.core.engine;

import io.sparsemesh.core.checkpoint.GgufFile;
import io.sparsemesh.core.checkpoint.GgufTensorStore;
import io.sparsemesh.core.checkpoint.Llama2cTensorStore;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.GgufConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.tokenizer.Tokenizer;
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
        TensorStore store;
        ModelConfig config;
        if (GgufFile.hasMagic(model)) {
            GgufTensorStore gguf = GgufTensorStore.open(model);
            store = gguf;
            config = GgufConfigReader.read(gguf.gguf());
        } else {
            Llama2cTensorStore llama2c = Llama2cTensorStore.open(model);
            store = llama2c;
            config = llama2c.config();
        }
        int context = contextLength != null ? contextLength
                : Math.min(config.maxPositionEmbeddings(), DEFAULT_MAX_CONTEXT);
        EngineOptions options = EngineOptions.defaults(context);
        return new LocalEngine(config, store, null, options);
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
