package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The engine against Hugging Face transformers' outputs for tiny DeepSeek-V3 and GLM-5
 * checkpoints: last-position logits within 1e-4 and 16 greedy tokens exactly, for every prompt.
 * The prompt runs through the scheduler, so this covers batched prefill, MLA, the indexer and MoE.
 */
class HfTinyReferenceTest {

    static final double LOGIT_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v3_tiny", "glm_moe_dsa_tiny_b"})
    void logitsAndGreedyTokensMatch(String name) throws Exception {
        Path folder = TestData.hfTiny(name);
        JsonNode expected = new ObjectMapper().readTree(folder.resolve("expected.json").toFile());
        ModelCheckpoint checkpoint = Checkpoints.open(folder, null);
        try (Transformer model = TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), 128)) {
            int vocab = checkpoint.config().vocabSize();
            long sequenceId = 1;
            for (JsonNode testCase : expected.get("cases")) {
                int[] prompt = ints(testCase.get("prompt_ids"));

                // whole prompt in one step, logits of the last row
                long[] ids = new long[prompt.length];
                java.util.Arrays.fill(ids, sequenceId);
                int[] positions = java.util.stream.IntStream.range(0, prompt.length).toArray();
                float[] logits = new float[vocab];
                model.step(ids, prompt, positions, prompt.length, new int[]{prompt.length - 1}, 1, logits);
                model.release(sequenceId++);

                double[] reference = doubles(testCase.get("last_logits"));
                for (int v = 0; v < vocab; v++) {
                    assertEquals(reference[v], logits[v], LOGIT_TOLERANCE,
                            name + " prompt length " + prompt.length + ": logit " + v);
                }
            }
        }

        try (LocalEngine engine = LocalEngine.open(folder, null, 128)) {
            for (JsonNode testCase : expected.get("cases")) {
                int[] prompt = ints(testCase.get("prompt_ids"));
                int[] greedy = StoriesGreedyTest.generate(engine, prompt, 16);
                assertArrayEquals(ints(testCase.get("greedy_tokens")), greedy,
                        name + " prompt length " + prompt.length + ": greedy tokens");
            }
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }
}
