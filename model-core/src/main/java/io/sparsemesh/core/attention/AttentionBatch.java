package io.sparsemesh.core.attention;

import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;

/**
 * The rows of one forward step as attention sees them: row {@code i} is token position
 * {@code positions[i]} of a sequence whose caches are {@code caches[i]} (indexed by layer).
 *
 * <p>For sparse attention it also carries the positions each row's lightning indexer selected.
 * A FULL layer writes them, and the SHARED layers after it read them, which is how index sharing
 * reuses one top-k across a group of layers within a step.
 */
public final class AttentionBatch {

    private final int size;
    private final int[] positions;
    private final SequenceCaches[] caches;
    private final int[][] selectedPositions;
    private final int[] selectedCounts;
    private final Workspace workspace;
    private int selectionLayer = -1;

    public AttentionBatch(int[] positions, SequenceCaches[] caches) {
        this(positions, caches, new Workspace());
    }

    public AttentionBatch(int[] positions, SequenceCaches[] caches, Workspace workspace) {
        if (positions.length != caches.length) {
            throw new IllegalArgumentException(positions.length + " positions but " + caches.length + " caches");
        }
        this.size = positions.length;
        this.positions = positions;
        this.caches = caches;
        this.selectedPositions = new int[size][];
        this.selectedCounts = new int[size];
        this.workspace = workspace;
    }

    /** Scratch buffers of the calling thread, for the layers' temporaries. */
    public Workspace workspace() {
        return workspace;
    }

    public int size() {
        return size;
    }

    public int position(int row) {
        return positions[row];
    }

    /** The cache of {@code layer} for the sequence of {@code row}. */
    public LayerCache cache(int row, int layer) {
        return caches[row].layer(layer);
    }

    public SequenceCaches sequence(int row) {
        return caches[row];
    }

    /** Records the positions the indexer of {@code layer} selected for {@code row}; copies {@code count} entries. */
    public void setSelection(int layer, int row, int[] positions, int count) {
        int[] target = selectedPositions[row];
        if (target == null || target.length < count) {
            target = new int[Math.max(count, 16)];
            selectedPositions[row] = target;
        }
        System.arraycopy(positions, 0, target, 0, count);
        selectedCounts[row] = count;
        selectionLayer = layer;
    }

    /** The positions selected for {@code row} by the last FULL layer; use with {@link #selectionCount}. */
    public int[] selection(int row) {
        if (selectionLayer < 0) {
            throw new IllegalStateException("no FULL indexer layer has run in this step before a SHARED one;"
                    + " a layer range must start at a FULL layer");
        }
        return selectedPositions[row];
    }

    public int selectionCount(int row) {
        return selectedCounts[row];
    }

    /** Layer whose indexer produced the current selection, or -1 when none ran in this step. */
    public int selectionLayer() {
        return selectionLayer;
    }

    @Override
    public String toString() {
        return "AttentionBatch" + Arrays.toString(positions);
    }
}
