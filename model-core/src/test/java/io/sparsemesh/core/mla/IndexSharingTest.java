package io.sparsemesh.core.mla;

import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.testing.HeapTensorStore;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.sparsemesh.core.mla.LightningIndexerTest.forEachRow;
import static io.sparsemesh.core.mla.LightningIndexerTest.where;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexSharingTest {

    private static final List<IndexerType> ALL_FULL = List.of(IndexerType.FULL, IndexerType.FULL, IndexerType.FULL);
    private static final List<IndexerType> FULL_THEN_SHARED = List.of(IndexerType.FULL, IndexerType.SHARED, IndexerType.SHARED);

    @Test
    void sharedLayersAgreeWhereSelectionsAgree() {
        ModelConfig allFull = MlaTestModels.sparse(3, ALL_FULL);
        ModelConfig shared = MlaTestModels.sparse(3, FULL_THEN_SHARED);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(allFull, 31);

        AttentionStack fullRun = MultiHeadLatentAttentionTest.run(allFull, store, MlaPathPolicy.alwaysAbsorbed());
        AttentionStack sharedRun = MultiHeadLatentAttentionTest.run(shared, store, MlaPathPolicy.alwaysAbsorbed());

        // layer 0 is FULL in both; layer 1 gets the same inputs and differs only in its selection
        int[] agreements = new int[2];
        forEachRow((layer, sequence, position) -> {
            if (layer == 0) {
                assertArrayEquals(fullRun.output(0, sequence, position), sharedRun.output(0, sequence, position),
                        where(layer, sequence, position));
            } else if (layer == 1) {
                int[] ownSelection = fullRun.selection(1, sequence, position);
                int[] reused = sharedRun.selection(1, sequence, position);
                assertArrayEquals(fullRun.selection(0, sequence, position), reused, where(layer, sequence, position));
                boolean sameSelection = Arrays.equals(ownSelection, reused);
                boolean sameOutput = Arrays.equals(fullRun.output(1, sequence, position),
                        sharedRun.output(1, sequence, position));
                assertEquals(sameSelection, sameOutput, where(layer, sequence, position) + ": own selection "
                        + Arrays.toString(ownSelection) + ", reused " + Arrays.toString(reused));
                agreements[sameSelection ? 0 : 1]++;
            }
        });

        assertTrue(agreements[0] > 0, "no row where layer 1's own selection equals layer 0's");
        assertTrue(agreements[1] > 0, "no row where layer 1's own selection differs from layer 0's");
    }

    @Test
    void sharedPatternRunsIndexerOnlyOnFullLayers() {
        ModelConfig shared = MlaTestModels.sparse(3, FULL_THEN_SHARED);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(shared, 32);

        AttentionStack run = MultiHeadLatentAttentionTest.run(shared, store, new MlaPathPolicy(3));

        // sequence 1 has 8 rows and sequence 2 has 6, each through one FULL and two SHARED layers
        assertEquals(8, run.caches(1).indexerRuns());
        assertEquals(16, run.caches(1).indexerReuses());
        assertEquals(6, run.caches(2).indexerRuns());
        assertEquals(12, run.caches(2).indexerReuses());
    }

    @Test
    void sharedLayersLoadNoIndexer() {
        ModelConfig shared = MlaTestModels.sparse(3, FULL_THEN_SHARED);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(shared, 33);

        MultiHeadLatentAttention.load(store, shared, 0);
        MultiHeadLatentAttention.load(store, shared, 1);

        assertTrue(store.loadedNames().contains("model.layers.0.self_attn.indexer.wq_b.weight"));
        assertFalse(store.loadedNames().stream().anyMatch(name -> name.startsWith("model.layers.1.self_attn.indexer.")),
                store.loadedNames().toString());
    }

    @Test
    void rangeStartingAtSharedLayerIsRejected() {
        ModelConfig shared = MlaTestModels.sparse(3, FULL_THEN_SHARED);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(shared, 34);
        AttentionStack stack = new AttentionStack(List.of(MultiHeadLatentAttention.load(store, shared, 1)),
                shared.hiddenSize(), 16);

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> stack.step(new long[] {1}, new int[] {0}, new float[shared.hiddenSize()]));

        assertTrue(error.getMessage().contains("SHARED indexer layer 1"), error.getMessage());
    }
}
