package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bundled GLM-5-style model trained by tools/train against the outputs its PyTorch reference
 * wrote to reference.json (BF16 weights computed in float32): last-position logits within
 * {@value #LOGIT_TOLERANCE} for every prompt whose indexer selection has no exact ties, and 64
 * greedy tokens exactly for every prompt.
 */
class TrainedModelReferenceTest {

    /** Both sides compute in float32 from the same BF16 weights; only summation order differs. */
    static final double LOGIT_TOLERANCE = 2e-3;

    @Test
    void glm5MiniMatchesPyTorchReference() throws Exception {
        Path folder = TestData.root().resolve("models/glm5-mini-gutenberg");
        JsonNode reference = new ObjectMapper().readTree(folder.resolve("reference.json").toFile());

        ModelCheckpoint checkpoint = Checkpoints.open(folder, null);
        try (Transformer model = TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), 512)) {
            int vocab = checkpoint.config().vocabSize();
            long sequenceId = 1;
            for (JsonNode testCase : reference.get("cases")) {
                int[] prompt = HfTinyReferenceTest.ints(testCase.get("prompt_ids"));
                long[] ids = new long[prompt.length];
                Arrays.fill(ids, sequenceId);
                float[] logits = new float[vocab];
                model.step(ids, prompt, IntStream.range(0, prompt.length).toArray(), prompt.length,
                        new int[]{prompt.length - 1}, 1, logits);
                model.release(sequenceId++);

                if (testCase.get("indexer_kth_ties").asInt() > 0) {
                    // The indexer's k-th and (k+1)-th scores are exactly equal here, so which key is kept depends
                    // on each engine's tie order and the logits may differ by more than rounding.
                    continue;
                }
                double[] expected = HfTinyReferenceTest.doubles(testCase.get("last_logits"));
                for (int v = 0; v < vocab; v++) {
                    assertEquals(expected[v], logits[v], LOGIT_TOLERANCE, "prompt length " + prompt.length + ", logit " + v);
                }
            }
        }

        try (LocalEngine engine = LocalEngine.open(folder, null, 512)) {
            for (JsonNode testCase : reference.get("cases")) {
                int[] prompt = HfTinyReferenceTest.ints(testCase.get("prompt_ids"));
                int[] expected = HfTinyReferenceTest.ints(testCase.get("greedy_tokens"));
                assertArrayEquals(expected, StoriesGreedyTest.generate(engine, prompt, expected.length),
                        "greedy tokens of prompt length " + prompt.length);
            }
        }
    }
}
