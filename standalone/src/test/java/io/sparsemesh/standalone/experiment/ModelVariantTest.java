package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.IndexerType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelVariantTest {

    private static final Path GLM = TestData.root().resolve("testdata/hf-tiny/glm_moe_dsa_tiny_b");

    @TempDir
    Path work;

    private static SweepPoint point(Integer fullEvery, Integer topk) {
        return new SweepPoint(SweepPoint.Kind.MESH, 1, 1, 1, "bf16", false, fullEvery, topk, 1, 8, 8);
    }

    @Test
    void patchedConfigReadBack() throws Exception {
        Path variant = ModelVariant.forPoint(GLM, point(2, 4), 3, work);

        assertTrue(Files.isSymbolicLink(variant.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(variant.resolve("config.json")));
        assertTrue(!Files.isSymbolicLink(variant.resolve("config.json")), "config.json must be a patched copy");
        try (ModelCheckpoint checkpoint = Checkpoints.open(variant, null)) {
            assertEquals(List.of(IndexerType.FULL, IndexerType.SHARED, IndexerType.FULL),
                    checkpoint.config().indexer().layerTypes());
            assertEquals(4, checkpoint.config().indexer().topK());
        }
    }

    @Test
    void modelSettingsKeepOriginal() {
        assertSame(GLM, ModelVariant.forPoint(GLM, point(null, null), 3, work));
    }

    /** Every layer full is the checkpoint's own config, so the logits must match exactly. */
    @Test
    void qualityOfSameConfigIsZero() {
        Path same = ModelVariant.forPoint(GLM, point(1, null), 3, work);
        int[] tokens = java.util.stream.IntStream.range(0, 24).map(i -> (i * 37 + 5) % 256).toArray();

        LocalProbe.Quality quality = LocalProbe.quality(GLM, same, "full1in1", tokens);

        assertEquals(0, quality.maxAbsLogitDiff(), 0);
        assertEquals(quality.referencePerplexity(), quality.perplexity(), 0);
    }

    /** A shared layer reuses another layer's top-k positions, which changes the logits once the sequence outgrows top-k. */
    @Test
    void sharedIndexChangesLogits() {
        Path shared = ModelVariant.forPoint(GLM, point(4, null), 3, work);
        int[] tokens = java.util.stream.IntStream.range(0, 24).map(i -> (i * 37 + 5) % 256).toArray();

        LocalProbe.Quality quality = LocalProbe.quality(GLM, shared, "full1in4", tokens);

        assertTrue(quality.maxAbsLogitDiff() > 0, "max abs logit diff " + quality.maxAbsLogitDiff());
        assertTrue(Double.isFinite(quality.perplexity()));
    }

    /** glm5-mini-gutenberg selects 64 keys per query in a context of 256. */
    @Test
    void qualitySequenceOutgrowsTopk() throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestData.root().resolve("models/glm5-mini-gutenberg"), null)) {
            assertEquals(128, ExperimentRunner.qualitySequenceLength(checkpoint.config(), List.of(point(1, null))));
            assertEquals(256, ExperimentRunner.qualitySequenceLength(checkpoint.config(), List.of(point(null, 200))),
                    "a variant's larger top-k, within the context");
        }
    }

    /** Perplexity from uniform logits is the vocabulary size. */
    @Test
    void perplexityOfUniformLogits() {
        int vocab = 16;
        int[] tokens = {1, 5, 7, 2};
        assertEquals(vocab, LocalProbe.perplexity(new float[tokens.length * vocab], tokens, vocab), 1e-9);
    }
}
