package io.sparsemesh.core.engine;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Attention layers held in this process, with the caches of every sequence that uses them. A
 * sequence's caches are created on its first step and sized for {@code capacity} tokens.
 *
 * <p>Steps over disjoint sequences may run concurrently, each on its own thread, because every
 * thread gets its own scratch workspace.
 */
public final class LocalAttention implements AttentionBackend {

    private final AttentionLayer[] layers;
    private final int firstLayer;
    private final int capacity;
    private final Map<Long, SequenceCaches> sequences = new ConcurrentHashMap<>();
    private final ThreadLocal<Workspace> workspaces = ThreadLocal.withInitial(Workspace::new);

    /**
     * @param layers     attention layers {@code firstLayer .. firstLayer + layers.length}
     * @param capacity   tokens each sequence's caches can hold
     */
    public LocalAttention(AttentionLayer[] layers, int firstLayer, int capacity) {
        this.layers = layers.clone();
        this.firstLayer = firstLayer;
        this.capacity = capacity;
    }

    @Override
    public AttentionStep beginStep(long[] sequenceIds, int[] positions, int rows) {
        SequenceCaches[] caches = new SequenceCaches[rows];
        for (int i = 0; i < rows; i++) {
            caches[i] = sequences.computeIfAbsent(sequenceIds[i], this::open);
        }
        AttentionBatch batch = new AttentionBatch(Arrays.copyOf(positions, rows), caches, workspaces.get());
        return (layer, input, output) -> layers[layer - firstLayer].forward(batch, input, output);
    }

    private SequenceCaches open(long sequenceId) {
        LayerCache[] caches = new LayerCache[layers.length];
        for (int i = 0; i < layers.length; i++) {
            caches[i] = layers[i].newCache(capacity);
        }
        return new SequenceCaches(sequenceId, firstLayer, caches);
    }

    @Override
    public void release(long sequenceId) {
        sequences.remove(sequenceId);
    }

    /** Sequences that currently hold caches here. */
    public int cachedSequences() {
        return sequences.size();
    }

    /** The caches of {@code sequenceId}, or null when it has none here. */
    public SequenceCaches caches(long sequenceId) {
        return sequences.get(sequenceId);
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
        sequences.clear();
    }
}
