package io.sparsemesh.core.attention;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Every attention cache of one sequence for a range of layers, plus its length. Whoever owns the
 * attention layers (the local engine or an attention service) creates one per sequence and drops
 * it when the sequence finishes.
 */
public final class SequenceCaches {

    private final long sequenceId;
    private final int firstLayer;
    private final LayerCache[] layers;
    private final AtomicLong indexerRuns = new AtomicLong();
    private final AtomicLong indexerReuses = new AtomicLong();

    public SequenceCaches(long sequenceId, int firstLayer, LayerCache[] layers) {
        this.sequenceId = sequenceId;
        this.firstLayer = firstLayer;
        this.layers = layers;
    }

    public long sequenceId() {
        return sequenceId;
    }

    public LayerCache layer(int layer) {
        return layers[layer - firstLayer];
    }

    public int capacity() {
        return layers.length == 0 ? 0 : layers[0].capacity();
    }

    public long byteSize() {
        long bytes = 0;
        for (LayerCache cache : layers) {
            bytes += cache.byteSize();
        }
        return bytes;
    }

    /** Counts one indexer run (a FULL layer scored this sequence's positions for one row). */
    public void countIndexerRun() {
        indexerRuns.incrementAndGet();
    }

    /** Counts one reuse (a SHARED layer took the selection of an earlier FULL layer for one row). */
    public void countIndexerReuse() {
        indexerReuses.incrementAndGet();
    }

    public long indexerRuns() {
        return indexerRuns.get();
    }

    public long indexerReuses() {
        return indexerReuses.get();
    }
}
