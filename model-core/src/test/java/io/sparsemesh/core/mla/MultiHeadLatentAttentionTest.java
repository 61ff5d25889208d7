package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.testing.HeapTensorStore;
import io.sparsemesh.core.testing.RandomWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultiHeadLatentAttentionTest {

    private static final double TOLERANCE = 5e-5;

    /**
     * Three steps over two sequences: a prompt chunk of 6 rows for sequence 1 interleaved with 2
     * rows of sequence 2, then decode rows mixed with a 3-row chunk, then two decode rows.
     */
    private static final long[][] SEQUENCES = {{2, 1, 1, 2, 1, 1, 1, 1}, {1, 2, 2, 2}, {2, 1}};
    private static final int[][] POSITIONS = {{0, 0, 1, 1, 2, 3, 4, 5}, {6, 2, 3, 4}, {5, 7}};
    private static final int LAST_POSITION_1 = 7;
    private static final int LAST_POSITION_2 = 5;

    @Test
    void absorbedPathMatchesNaive() {
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.NEOX);
        HeapTensorStore store = weights(config, 1);

        AttentionStack stack = run(config, store, MlaPathPolicy.alwaysAbsorbed());

        assertMatchesNaive(config, store, stack);
    }

    @Test
    void expandedPathMatchesNaive() {
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.INTERLEAVED);
        HeapTensorStore store = weights(config, 2);

        AttentionStack stack = run(config, store, MlaPathPolicy.alwaysExpanded());

        assertMatchesNaive(config, store, stack);
    }

    @Test
    void mixedPathsMatchNaive() {
        // sequences with 3 or more rows in a step expand, the others absorb: each step mixes both
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.INTERLEAVED);
        HeapTensorStore store = weights(config, 3);

        AttentionStack stack = run(config, store, new MlaPathPolicy(3));

        assertMatchesNaive(config, store, stack);
    }

    @Test
    void directQueryProjectionMatchesNaive() {
        ModelConfig config = MlaTestModels.dense(0, RopeLayout.NEOX);
        HeapTensorStore store = weights(config, 4);

        AttentionStack stack = run(config, store, MlaPathPolicy.forDimensions(config.mla()));

        assertMatchesNaive(config, store, stack);
        assertTrue(store.loadedNames().contains("model.layers.0.self_attn.q_proj.weight"));
    }

    @Test
    void absorbedAndExpandedAgree() {
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.NEOX);
        HeapTensorStore store = weights(config, 5);

        AttentionStack absorbed = run(config, store, MlaPathPolicy.alwaysAbsorbed());
        AttentionStack expanded = run(config, store, MlaPathPolicy.alwaysExpanded());

        for (int layer = 0; layer < MlaTestModels.LAYERS; layer++) {
            for (int position = 0; position <= LAST_POSITION_1; position++) {
                assertClose(expanded.output(layer, 1, position), absorbed.output(layer, 1, position), 1e-5,
                        "layer " + layer + " sequence 1 position " + position);
            }
        }
    }

    @Test
    void defaultPolicyExpandsFromHalfTheHeadDims() {
        MlaPathPolicy policy = MlaPathPolicy.forDimensions(MlaTestModels.dense(16, RopeLayout.NEOX).mla());

        assertEquals(7, policy.expandedMinRows());
        assertTrue(policy.expands(7));
        assertTrue(!policy.expands(6));
    }

    @Test
    void positionPastCapacityIsRejected() {
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.NEOX);
        MultiHeadLatentAttention layer = MultiHeadLatentAttention.load(weights(config, 6), config, 0);
        SequenceCaches caches = new SequenceCaches(1, 0, new io.sparsemesh.core.attention.LayerCache[] {layer.newCache(4)});
        AttentionBatch batch = new AttentionBatch(new int[] {4}, new SequenceCaches[] {caches});

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> layer.forward(batch, new float[MlaTestModels.HIDDEN], new float[MlaTestModels.HIDDEN]));

        assertTrue(error.getMessage().contains("position 4"), error.getMessage());
        assertTrue(error.getMessage().contains("capacity of 4 tokens"), error.getMessage());
    }

    @Test
    void missingTensorIsNamed() {
        ModelConfig config = MlaTestModels.dense(16, RopeLayout.NEOX);
        HeapTensorStore store = weights(config, 7);
        store.remove("model.layers.1.self_attn.kv_b_proj.weight");

        CheckpointException error = assertThrows(CheckpointException.class,
                () -> MultiHeadLatentAttention.load(store, config, 1));

        assertTrue(error.getMessage().contains("model.layers.1.self_attn.kv_b_proj.weight"), error.getMessage());
    }

    static HeapTensorStore weights(ModelConfig config, long seed) {
        RandomWeights weights = new RandomWeights(seed);
        for (int layer = 0; layer < config.numLayers(); layer++) {
            weights.attention(config, layer);
        }
        return weights.store();
    }

    /** Runs the three steps through all layers; the inputs are the same for every policy. */
    static AttentionStack run(ModelConfig config, HeapTensorStore store, MlaPathPolicy policy) {
        List<MultiHeadLatentAttention> layers = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            layers.add(MultiHeadLatentAttention.load(store, config, layer, policy));
        }
        AttentionStack stack = new AttentionStack(layers, config.hiddenSize(), 64);
        Random random = new Random(42);
        for (int step = 0; step < SEQUENCES.length; step++) {
            float[] input = new float[POSITIONS[step].length * config.hiddenSize()];
            for (int i = 0; i < input.length; i++) {
                input[i] = (float) random.nextGaussian();
            }
            stack.step(SEQUENCES[step], POSITIONS[step], input);
        }
        return stack;
    }

    private static void assertMatchesNaive(ModelConfig config, HeapTensorStore store, AttentionStack stack) {
        for (int layer = 0; layer < config.numLayers(); layer++) {
            NaiveMla naive = new NaiveMla(config, store, layer);
            for (long sequence : new long[] {1, 2}) {
                int last = sequence == 1 ? LAST_POSITION_1 : LAST_POSITION_2;
                float[][] inputs = stack.inputs(layer, sequence, last);
                for (int position = 0; position <= last; position++) {
                    int[] allowed = IntStream.rangeClosed(0, position).toArray();
                    assertClose(naive.attention(inputs, position, allowed), stack.output(layer, sequence, position),
                            TOLERANCE, "layer " + layer + " sequence " + sequence + " position " + position);
                }
            }
        }
    }

    static void assertClose(double[] expected, float[] actual, double tolerance, String where) {
        assertEquals(expected.length, actual.length, where);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, where + " element " + i);
        }
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String where) {
        assertClose(NaiveMla.toDouble(expected), actual, tolerance, where);
    }
}
