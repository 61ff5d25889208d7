package io.sparsemesh.attention;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.transport.attention.LayerRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The attention layers of one layer range, loaded from a checkpoint: for MLA models the
 * projections of each layer and the lightning indexer of each FULL layer, for GQA models the
 * q/k/v/o projections. Nothing else of the checkpoint is read.
 */
public final class AttentionModel implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AttentionModel.class);

    private final String name;
    private final ModelConfig config;
    private final TensorStore store;
    private final LayerRange range;
    private final AttentionLayer[] layers;

    private AttentionModel(String name, ModelConfig config, TensorStore store, LayerRange range, AttentionLayer[] layers) {
        this.name = name;
        this.config = config;
        this.store = store;
        this.range = range;
        this.layers = layers;
    }

    /**
     * Opens the checkpoint at {@code model} (GGUF, llama2.c {@code .bin} or Hugging Face folder)
     * and loads the attention of layers {@code [firstLayer, endLayer)}.
     *
     * @param endLayer one past the last layer to serve, or null to serve through the model's last layer
     */
    public static AttentionModel open(Path model, int firstLayer, Integer endLayer) {
        ModelCheckpoint checkpoint = Checkpoints.open(model, null);
        try {
            ModelConfig config = checkpoint.config();
            LayerRange range = range(config, firstLayer, endLayer, model);
            return load(model.getFileName().toString(), config, checkpoint.store(), range);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** Loads the attention of {@code range} from {@code store}; the model takes ownership of the store. */
    public static AttentionModel load(String name, ModelConfig config, TensorStore store, LayerRange range) {
        if (range.end() > config.numLayers()) {
            throw new IllegalArgumentException("layer range " + range + " goes past the " + config.numLayers()
                    + " layers of " + name + "; set the end layer to at most " + config.numLayers());
        }
        if (config.hasIndexer() && config.indexer().layerType(range.first()) != IndexerType.FULL) {
            throw new IllegalArgumentException("layer range " + range + " of " + name + " starts at layer "
                    + range.first() + ", a SHARED indexer layer that reuses the top-k of an earlier FULL layer;"
                    + " start the range at a FULL layer");
        }
        long started = System.nanoTime();
        AttentionLayer[] layers = new AttentionLayer[range.size()];
        for (int layer = range.first(); layer < range.end(); layer++) {
            layers[layer - range.first()] = TransformerLoader.loadAttention(store, config, layer);
        }
        AttentionModel model = new AttentionModel(name, config, store, range, layers);
        log.info("Loaded attention layers {} of {} ({}, hidden {}): {} KiB of weights in {} ms", range, name,
                config.architecture(), config.hiddenSize(), model.weightBytes() >> 10,
                (System.nanoTime() - started) / 1_000_000);
        return model;
    }

    private static LayerRange range(ModelConfig config, int firstLayer, Integer endLayer, Path model) {
        int end = endLayer == null ? config.numLayers() : endLayer;
        if (firstLayer < 0 || end <= firstLayer || end > config.numLayers()) {
            throw new IllegalArgumentException("invalid layer range: first layer " + firstLayer + ", end layer " + end
                    + "; " + model + " has " + config.numLayers() + " layers, so use 0 <= first < end <= "
                    + config.numLayers());
        }
        return new LayerRange(firstLayer, end);
    }

    /** Returns the checkpoint's file or folder name, which Describe reports. */
    public String name() {
        return name;
    }

    public ModelConfig config() {
        return config;
    }

    public LayerRange range() {
        return range;
    }

    /** Returns the attention of layer {@code layer}, which must lie in {@link #range()}. */
    public AttentionLayer layer(int layer) {
        return layers[layer - range.first()];
    }

    /** Layers {@code range().first() ..} in order; the array is a copy. */
    public AttentionLayer[] layers() {
        return layers.clone();
    }

    public long weightBytes() {
        long bytes = 0;
        for (AttentionLayer layer : layers) {
            bytes += layer.weightBytes();
        }
        return bytes;
    }

    @Override
    public void close() {
        store.close();
    }
}
