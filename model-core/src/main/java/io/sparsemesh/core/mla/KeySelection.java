package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.tensor.Workspace;

/**
 * Which cached positions each row of an MLA layer attends to: all of them (dense MLA), the top-k
 * of this layer's own lightning indexer (a FULL layer), or the top-k that the nearest earlier
 * FULL layer recorded in the batch (a SHARED layer, which loads no indexer at all).
 */
sealed interface KeySelection {

    /** Floats of indexer key this layer caches per token (0 without an indexer). */
    default int indexerKeyDim() {
        return 0;
    }

    /** Bytes of indexer weights (0 without an indexer). */
    default long byteSize() {
        return 0;
    }

    /** Runs once per step after the rows' keys are cached and before any row attends. */
    void prepare(AttentionBatch batch, float[] input, float[] queryLatent, Workspace workspace);

    /** Writes the positions {@code row} attends to into {@code positions} and returns their count. */
    int positions(AttentionBatch batch, int row, int[] positions);

    /** Every position up to the row's own. */
    record Dense() implements KeySelection {

        @Override
        public void prepare(AttentionBatch batch, float[] input, float[] queryLatent, Workspace workspace) {
            // nothing to choose: every row attends to all positions up to its own
        }

        @Override
        public int positions(AttentionBatch batch, int row, int[] positions) {
            int count = batch.position(row) + 1;
            for (int s = 0; s < count; s++) {
                positions[s] = s;
            }
            return count;
        }
    }

    /** The layer's own indexer picks the positions and publishes them for the SHARED layers after it. */
    record Indexed(LightningIndexer indexer) implements KeySelection {

        @Override
        public int indexerKeyDim() {
            return indexer.keyDim();
        }

        @Override
        public long byteSize() {
            return indexer.byteSize();
        }

        @Override
        public void prepare(AttentionBatch batch, float[] input, float[] queryLatent, Workspace workspace) {
            indexer.storeKeys(batch, input, workspace);
            indexer.select(batch, input, queryLatent, workspace);
        }

        @Override
        public int positions(AttentionBatch batch, int row, int[] positions) {
            return copySelection(batch, row, positions);
        }
    }

    /** Reuses the selection of the nearest earlier FULL layer in this step. */
    record Shared(int layer) implements KeySelection {

        @Override
        public void prepare(AttentionBatch batch, float[] input, float[] queryLatent, Workspace workspace) {
            int source = batch.selectionLayer();
            if (source < 0 || source >= layer) {
                throw new IllegalStateException("SHARED indexer layer " + layer + " needs the selection of an earlier"
                        + " FULL layer in this step, but the batch holds "
                        + (source < 0 ? "none" : "layer " + source + "'s") + "; a layer range must start at a FULL layer");
            }
            for (int row = 0; row < batch.size(); row++) {
                batch.sequence(row).countIndexerReuse();
            }
        }

        @Override
        public int positions(AttentionBatch batch, int row, int[] positions) {
            return copySelection(batch, row, positions);
        }
    }

    private static int copySelection(AttentionBatch batch, int row, int[] positions) {
        int count = batch.selectionCount(row);
        System.arraycopy(batch.selection(row), 0, positions, 0, count);
        return count;
    }
}
