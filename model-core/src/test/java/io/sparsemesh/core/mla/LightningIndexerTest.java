package io.sparsemesh.core.mla;

import io.sparsemesh.core.config.IndexerType;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.testing.HeapTensorStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import static io.sparsemesh.core.mla.MultiHeadLatentAttentionTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LightningIndexerTest {

    private static final List<IndexerType> ALL_FULL = List.of(IndexerType.FULL, IndexerType.FULL, IndexerType.FULL);
    private static final long[] SEQUENCE_IDS = {1, 2};
    private static final int[] LAST_POSITIONS = {7, 5};

    @Test
    void sparseEqualsDenseWhenTopKCoversAll() {
        ModelConfig sparse = MlaTestModels.sparse(64, ALL_FULL);
        ModelConfig dense = MlaTestModels.dense(16, RopeLayout.NEOX);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(sparse, 21);

        AttentionStack sparseRun = MultiHeadLatentAttentionTest.run(sparse, store, MlaPathPolicy.alwaysAbsorbed());
        AttentionStack denseRun = MultiHeadLatentAttentionTest.run(dense, store, MlaPathPolicy.alwaysAbsorbed());

        forEachRow((layer, sequence, position) -> assertArrayEquals(denseRun.output(layer, sequence, position),
                sparseRun.output(layer, sequence, position), where(layer, sequence, position)));
    }

    @ParameterizedTest
    @EnumSource(RopeLayout.class)
    void selectionEqualsNaiveFullSort(RopeLayout layout) {
        ModelConfig config = withIndexerLayout(MlaTestModels.sparse(3, ALL_FULL), layout);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(config, 22);

        AttentionStack stack = MultiHeadLatentAttentionTest.run(config, store, MlaPathPolicy.forDimensions(config.mla()));

        forEachRow((layer, sequence, position) -> {
            NaiveMla naive = new NaiveMla(config, store, layer);
            int last = lastPosition(sequence);
            double[] scores = naive.indexScores(stack.inputs(layer, sequence, last), position);
            assertArrayEquals(naiveTopK(scores, 3), stack.selection(layer, sequence, position),
                    where(layer, sequence, position) + ", scores " + Arrays.toString(scores));
        });
    }

    @ParameterizedTest
    @EnumSource(value = PathChoice.class)
    void sparseAttentionMatchesNaive(PathChoice path) {
        ModelConfig config = MlaTestModels.sparse(3, ALL_FULL);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(config, 23);

        AttentionStack stack = MultiHeadLatentAttentionTest.run(config, store, path.policy);

        forEachRow((layer, sequence, position) -> {
            NaiveMla naive = new NaiveMla(config, store, layer);
            float[][] inputs = stack.inputs(layer, sequence, lastPosition(sequence));
            int[] selected = stack.selection(layer, sequence, position);
            assertEquals(Math.min(3, position + 1), selected.length, where(layer, sequence, position));
            assertClose(naive.attention(inputs, position, selected), stack.output(layer, sequence, position), 5e-5,
                    where(layer, sequence, position));
        });
    }

    @Test
    void everyFullLayerCountsOneRunPerRow() {
        ModelConfig config = MlaTestModels.sparse(3, ALL_FULL);
        HeapTensorStore store = MultiHeadLatentAttentionTest.weights(config, 24);

        AttentionStack stack = MultiHeadLatentAttentionTest.run(config, store, MlaPathPolicy.alwaysAbsorbed());

        assertEquals(8 * 3, stack.caches(1).indexerRuns());
        assertEquals(6 * 3, stack.caches(2).indexerRuns());
        assertEquals(0, stack.caches(1).indexerReuses());
    }

    enum PathChoice {
        ABSORBED(MlaPathPolicy.alwaysAbsorbed()),
        EXPANDED(MlaPathPolicy.alwaysExpanded()),
        MIXED(new MlaPathPolicy(3));

        final MlaPathPolicy policy;

        PathChoice(MlaPathPolicy policy) {
            this.policy = policy;
        }
    }

    interface RowCheck {
        void check(int layer, long sequence, int position);
    }

    /** Runs {@code check} for every layer and every position of both test sequences. */
    static void forEachRow(RowCheck check) {
        for (int layer = 0; layer < MlaTestModels.LAYERS; layer++) {
            for (int i = 0; i < SEQUENCE_IDS.length; i++) {
                for (int position = 0; position <= LAST_POSITIONS[i]; position++) {
                    check.check(layer, SEQUENCE_IDS[i], position);
                }
            }
        }
    }

    static int lastPosition(long sequence) {
        return LAST_POSITIONS[sequence == 1 ? 0 : 1];
    }

    static String where(int layer, long sequence, int position) {
        return "layer " + layer + " sequence " + sequence + " position " + position;
    }

    private static ModelConfig withIndexerLayout(ModelConfig config, RopeLayout layout) {
        var indexer = config.indexer();
        return new ModelConfig(config.architecture(), config.vocabSize(), config.hiddenSize(), config.numLayers(),
                config.numHeads(), config.numKvHeads(), config.headDim(), config.intermediateSize(), config.rmsNormEps(),
                config.maxPositionEmbeddings(), config.tieWordEmbeddings(), config.bosTokenId(), config.eosTokenIds(),
                config.rope(), config.mla(),
                new io.sparsemesh.core.config.IndexerConfig(indexer.nHeads(), indexer.headDim(), indexer.ropeDim(),
                        indexer.topK(), layout, indexer.layerTypes()),
                config.moe());
    }

    /** Returns the k best positions by score (ties to the lower position), in increasing order. */
    private static int[] naiveTopK(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(s -> -scores[s]).thenComparingInt(s -> s))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }
}
