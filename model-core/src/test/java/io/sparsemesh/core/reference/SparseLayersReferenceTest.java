package io.sparsemesh.core.reference;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.mla.MlaPathPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks DeepSeek-V3 and GLM-5 (sparse MLA with a lightning indexer, MoE) layers against outputs
 * that Hugging Face transformers computed for tiny random-weight checkpoints in float32: last-position
 * logits and 16 greedy tokens for prompts of 5, 20 and 40 tokens with {@code index_topk} 8, and
 * per-layer values (output, selected positions, routed experts) at the last position of the
 * 40-token prompt.
 */
class SparseLayersReferenceTest {

    private static final List<String> MODELS = List.of("deepseek_v3_tiny", "glm_moe_dsa_tiny_b");
    private static final double LOGIT_TOLERANCE = 1e-4;
    private static final int CAPACITY = 64;
    private static final int DEBUG_CASE = 2;

    enum MlaPath {
        DEFAULT, ABSORBED, EXPANDED;

        MlaPathPolicy policy(ModelCheckpoint checkpoint) {
            return switch (this) {
                case DEFAULT -> MlaPathPolicy.forDimensions(checkpoint.config().mla());
                case ABSORBED -> MlaPathPolicy.alwaysAbsorbed();
                case EXPANDED -> MlaPathPolicy.alwaysExpanded();
            };
        }
    }

    static Stream<Arguments> promptsAndPaths() {
        List<Arguments> arguments = new ArrayList<>();
        for (String model : MODELS) {
            for (int c = 0; c < 3; c++) {
                for (MlaPath path : MlaPath.values()) {
                    arguments.add(Arguments.of(model, c, path));
                }
            }
        }
        return arguments.stream();
    }

    static Stream<Arguments> prompts() {
        return MODELS.stream().flatMap(model -> Stream.of(0, 1, 2).map(c -> Arguments.of(model, c)));
    }

    @ParameterizedTest
    @MethodSource("promptsAndPaths")
    void promptChunkLogitsMatch(String model, int caseIndex, MlaPath path) {
        JsonNode expectedCase = expected(model).path("cases").get(caseIndex);
        try (ModelCheckpoint checkpoint = open(model)) {
            SequentialReference reference = new SequentialReference(checkpoint.store(), checkpoint.config(),
                    path.policy(checkpoint), CAPACITY);

            float[] logits = reference.step(ints(expectedCase.path("prompt_ids")), 0);

            assertLogits(floats(expectedCase.path("last_logits")), logits, model + " case " + caseIndex + " " + path);
        }
    }

    @ParameterizedTest
    @MethodSource("prompts")
    void tokenByTokenLogitsMatch(String model, int caseIndex) {
        JsonNode expectedCase = expected(model).path("cases").get(caseIndex);
        try (ModelCheckpoint checkpoint = open(model)) {
            SequentialReference reference = new SequentialReference(checkpoint.store(), checkpoint.config(),
                    MlaPathPolicy.forDimensions(checkpoint.config().mla()), CAPACITY);
            int[] prompt = ints(expectedCase.path("prompt_ids"));

            float[] logits = null;
            for (int position = 0; position < prompt.length; position++) {
                logits = reference.step(new int[] {prompt[position]}, position);
            }

            assertLogits(floats(expectedCase.path("last_logits")), logits, model + " case " + caseIndex);
        }
    }

    @ParameterizedTest
    @MethodSource("prompts")
    void greedyTokensMatch(String model, int caseIndex) {
        JsonNode expectedCase = expected(model).path("cases").get(caseIndex);
        int[] expectedTokens = ints(expectedCase.path("greedy_tokens"));
        try (ModelCheckpoint checkpoint = open(model)) {
            SequentialReference reference = new SequentialReference(checkpoint.store(), checkpoint.config(),
                    MlaPathPolicy.forDimensions(checkpoint.config().mla()), CAPACITY);
            int[] prompt = ints(expectedCase.path("prompt_ids"));

            // prompt as one chunk, then one token per step from the cache, with no stop at EOS
            int[] generated = new int[expectedTokens.length];
            float[] logits = reference.step(prompt, 0);
            for (int i = 0; i < generated.length; i++) {
                generated[i] = argmax(logits);
                logits = reference.step(new int[] {generated[i]}, prompt.length + i);
            }

            assertArrayEquals(expectedTokens, generated, model + " case " + caseIndex);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v3_tiny", "glm_moe_dsa_tiny_b"})
    void lastPositionDebugValuesMatch(String model) {
        JsonNode expected = expected(model);
        int[] prompt = ints(expected.path("cases").get(DEBUG_CASE).path("prompt_ids"));
        try (ModelCheckpoint checkpoint = open(model)) {
            SequentialReference reference = new SequentialReference(checkpoint.store(), checkpoint.config(),
                    MlaPathPolicy.forDimensions(checkpoint.config().mla()), CAPACITY);

            reference.step(prompt, 0);

            for (JsonNode layerNode : expected.path("debug_last_position_of_case_2")) {
                int layer = layerNode.path("layer").asInt();
                String where = model + " layer " + layer;
                SequentialReference.LayerDebug actual = reference.debug(layer);
                assertDebugOutput(layerNode, actual.output(), where);
                if (layerNode.has("topk_indices_last_pos")) {
                    int[] selected = ints(layerNode.path("topk_indices_last_pos"));
                    Arrays.sort(selected);
                    assertArrayEquals(selected, actual.selectedPositions(), where + " selected positions");
                }
                if (layerNode.has("experts_last_pos")) {
                    assertExperts(layerNode, actual, where);
                }
            }
        }
    }

    private static void assertDebugOutput(JsonNode layerNode, float[] output, String where) {
        float[] first8 = floats(layerNode.path("out_first8"));
        for (int i = 0; i < first8.length; i++) {
            assertEquals(first8[i], output[i], LOGIT_TOLERANCE, where + " output element " + i);
        }
        double l2 = 0;
        for (float value : output) {
            l2 += (double) value * value;
        }
        double expectedL2 = layerNode.path("out_l2").asDouble();
        assertEquals(expectedL2, Math.sqrt(l2), expectedL2 * 1e-5, where + " output L2 norm");
    }

    /** Compares experts as sets, each with its weight, since the reference's top-k order is unspecified. */
    private static void assertExperts(JsonNode layerNode, SequentialReference.LayerDebug actual, String where) {
        int[] expectedExperts = ints(layerNode.path("experts_last_pos"));
        float[] expectedWeights = floats(layerNode.path("expert_weights_last_pos"));
        assertEquals(expectedExperts.length, actual.experts().length, where + " expert count");
        for (int i = 0; i < expectedExperts.length; i++) {
            int slot = indexOf(actual.experts(), expectedExperts[i]);
            assertTrue(slot >= 0, where + ": expert " + expectedExperts[i] + " not chosen, got "
                    + Arrays.toString(actual.experts()));
            assertEquals(expectedWeights[i], actual.expertWeights()[slot], 1e-5, where + " weight of expert "
                    + expectedExperts[i]);
        }
    }

    private static void assertLogits(float[] expected, float[] actual, String where) {
        assertEquals(expected.length, actual.length, where + " vocabulary size");
        double maxError = 0;
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(expected[i] - actual[i]);
            if (error > maxError) {
                maxError = error;
                worst = i;
            }
        }
        assertTrue(maxError <= LOGIT_TOLERANCE, where + ": logit " + worst + " is " + actual[worst] + ", expected "
                + expected[worst] + " (max error " + maxError + ")");
    }

    private static ModelCheckpoint open(String model) {
        return Checkpoints.open(TestData.hfTiny(model), null);
    }

    private static JsonNode expected(String model) {
        try {
            return JsonMapper.builder().build().readTree(Files.readString(TestData.hfTiny(model).resolve("expected.json")));
        } catch (IOException e) {
            throw new IllegalStateException("failed to read expected.json of " + model, e);
        }
    }

    /** Returns the float32 values of a JSON array of numbers (written as doubles, exact after the cast). */
    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).asDouble();
        }
        return values;
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int indexOf(int[] values, int value) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
