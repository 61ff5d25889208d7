package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs steps through a stack of attention layers with residual adds ({@code x ← x + attention(x)}),
 * keeping every sequence's caches and recording each layer's input rows, outputs and selections by
 * (sequence, position) so tests can check them against naive code afterwards.
 */
final class AttentionStack {

    private final List<MultiHeadLatentAttention> layers;
    private final int hidden;
    private final int capacity;
    private final Map<Long, SequenceCaches> caches = new HashMap<>();
    private final Map<String, float[]> inputs = new HashMap<>();
    private final Map<String, float[]> outputs = new HashMap<>();
    private final Map<String, int[]> selections = new HashMap<>();
    private final Workspace workspace = new Workspace();

    AttentionStack(List<MultiHeadLatentAttention> layers, int hidden, int capacity) {
        this.layers = layers;
        this.hidden = hidden;
        this.capacity = capacity;
    }

    /** Runs one step for rows {@code (sequenceIds[i], positions[i])} whose first-layer inputs are {@code input}. */
    void step(long[] sequenceIds, int[] positions, float[] input) {
        int rows = positions.length;
        SequenceCaches[] rowCaches = new SequenceCaches[rows];
        for (int row = 0; row < rows; row++) {
            rowCaches[row] = caches.computeIfAbsent(sequenceIds[row], this::open);
        }
        AttentionBatch batch = new AttentionBatch(positions.clone(), rowCaches, workspace);

        float[] x = input.clone();
        float[] out = new float[rows * hidden];
        for (MultiHeadLatentAttention layer : layers) {
            int index = layer.layerIndex();
            layer.forward(batch, x, out);
            for (int row = 0; row < rows; row++) {
                String key = key(index, sequenceIds[row], positions[row]);
                inputs.put(key, Arrays.copyOfRange(x, row * hidden, (row + 1) * hidden));
                outputs.put(key, Arrays.copyOfRange(out, row * hidden, (row + 1) * hidden));
                if (batch.selectionLayer() >= 0) {
                    selections.put(key, Arrays.copyOf(batch.selection(row), batch.selectionCount(row)));
                }
            }
            for (int i = 0; i < rows * hidden; i++) {
                x[i] += out[i];
            }
        }
    }

    SequenceCaches caches(long sequenceId) {
        return caches.get(sequenceId);
    }

    /** Inputs of positions {@code 0..lastPosition} of a sequence at {@code layer}. */
    float[][] inputs(int layer, long sequenceId, int lastPosition) {
        float[][] rows = new float[lastPosition + 1][];
        for (int position = 0; position <= lastPosition; position++) {
            rows[position] = inputs.get(key(layer, sequenceId, position));
        }
        return rows;
    }

    float[] output(int layer, long sequenceId, int position) {
        return outputs.get(key(layer, sequenceId, position));
    }

    /** Returns the positions the row attended to at {@code layer}, or null for dense layers. */
    int[] selection(int layer, long sequenceId, int position) {
        return selections.get(key(layer, sequenceId, position));
    }

    private SequenceCaches open(long sequenceId) {
        LayerCache[] layerCaches = new LayerCache[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            layerCaches[i] = layers.get(i).newCache(capacity);
        }
        return new SequenceCaches(sequenceId, layers.getFirst().layerIndex(), layerCaches);
    }

    private static String key(int layer, long sequenceId, int position) {
        return layer + "/" + sequenceId + "/" + position;
    }
}
