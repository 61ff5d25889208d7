package io.sparsemesh.expert;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.experts.ShardedTransformerLoader;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose FFN weights are spread over 2 expert shards × 2 replicas, each a gRPC server on
 * loopback, behind {@link RemoteExperts}, against the single-process engine. With F32 on the wire
 * the logits are bit-identical and so are the greedy tokens; with BF16 the differences are reported.
 */
class RemoteExpertsEquivalenceTest {

    /** "Once upon a time" with BOS in stories260K's vocabulary. */
    static final int[] STORIES_PROMPT = {1, 403, 407, 261, 378};

    /** llama.cpp's greedy continuation of {@link #STORIES_PROMPT}: ", there was a little girl named Lily. She loved to play". */
    static final int[] LLAMA_CPP_TOKENS = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337};

    static final int TOKENS = 16;

    @Test
    void storiesWithDenseLayersOnShards() throws Exception {
        int[][] prompts = {STORIES_PROMPT, {1, 403}, {1, 403, 407, 261, 378, 432, 383, 286}};
        int[][] local = Generations.local(TestModels.stories(), prompts, TOKENS);
        assertArrayEquals(LLAMA_CPP_TOKENS, local[0], "the single-process engine's tokens");

        compareWithLocal(TestModels.stories(), prompts, local);
    }

    @Test
    void deepseekMoeOnShards() throws Exception {
        Path model = TestModels.deepseekTiny();
        JsonNode cases = new ObjectMapper().readTree(model.resolve("expected.json").toFile()).get("cases");
        int[][] prompts = new int[cases.size()][];
        int[][] reference = new int[cases.size()][];
        for (int i = 0; i < prompts.length; i++) {
            prompts[i] = ints(cases.get(i).get("prompt_ids"));
            reference[i] = ints(cases.get(i).get("greedy_tokens"));
        }
        int[][] local = Generations.local(model, prompts, TOKENS);
        for (int i = 0; i < prompts.length; i++) {
            assertArrayEquals(reference[i], local[i], "Hugging Face's greedy tokens, prompt " + i);
        }

        compareWithLocal(model, prompts, local);
    }

    /**
     * Runs the prompts through the sharded model. With F32 on the wire, asserts bit-identical
     * last-position logits and equal greedy tokens. With BF16, reports the largest logit difference
     * and how many tokens agree, and checks that the difference is real but small.
     */
    private static void compareWithLocal(Path model, int[][] prompts, int[][] localTokens) throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
             ShardCluster cluster = ShardCluster.start(model, 2, 2, DensePlacement.SHARDS, ShardCluster.Interceptors.NONE)) {
            ModelConfig config = checkpoint.config();
            float[][] localLogits;
            try (Transformer local = TransformerLoader.loadLocal(config, checkpoint.store(), Generations.CONTEXT)) {
                localLogits = lastLogits(local, prompts);
            }

            // F32 on the wire: exactly the single-process results
            float[][] f32Logits;
            try (RemoteExperts experts = cluster.remoteExperts(config.hiddenSize(),
                    RemoteExperts.Options.defaults().withWireDType(WireDType.WIRE_DTYPE_F32))) {
                Transformer sharded = ShardedTransformerLoader.withLocalAttention(config, checkpoint.store(),
                        Generations.CONTEXT, experts, DensePlacement.SHARDS);
                f32Logits = lastLogits(sharded, prompts);
                try (Scheduler scheduler = new Scheduler(sharded, EngineOptions.defaults(Generations.CONTEXT))) {
                    for (int i = 0; i < prompts.length; i++) {
                        assertArrayEquals(localLogits[i], f32Logits[i], "F32 logits, prompt " + i);
                        assertArrayEquals(localTokens[i], Generations.generate(scheduler, prompts[i], TOKENS),
                                "F32 greedy tokens, prompt " + i);
                    }
                }

                // ping-pong: all prompts at once, as two micro-batches calling the shards concurrently
                sharded.setPingPong(true);
                try (Scheduler scheduler = new Scheduler(sharded, EngineOptions.defaults(Generations.CONTEXT))) {
                    List<CompletableFuture<int[]>> running = new ArrayList<>();
                    for (int[] prompt : prompts) {
                        running.add(Generations.submit(scheduler, prompt, TOKENS));
                    }
                    for (int i = 0; i < prompts.length; i++) {
                        assertArrayEquals(localTokens[i], running.get(i).get(120, TimeUnit.SECONDS),
                                "F32 greedy tokens with ping-pong, prompt " + i);
                    }
                }
            }

            // BF16 on the wire (the default): rows and results rounded to 8 significant bits
            try (RemoteExperts experts = cluster.remoteExperts(config.hiddenSize(), RemoteExperts.Options.defaults())) {
                Transformer sharded = ShardedTransformerLoader.withLocalAttention(config, checkpoint.store(),
                        Generations.CONTEXT, experts, DensePlacement.SHARDS);
                float[][] bf16Logits = lastLogits(sharded, prompts);
                try (Scheduler scheduler = new Scheduler(sharded, EngineOptions.defaults(Generations.CONTEXT))) {
                    for (int i = 0; i < prompts.length; i++) {
                        double maxDifference = 0;
                        double maxLogit = 0;
                        for (int v = 0; v < config.vocabSize(); v++) {
                            maxDifference = Math.max(maxDifference, Math.abs(bf16Logits[i][v] - f32Logits[i][v]));
                            maxLogit = Math.max(maxLogit, Math.abs(f32Logits[i][v]));
                        }
                        int[] tokens = Generations.generate(scheduler, prompts[i], TOKENS);
                        int agreeing = 0;
                        int prefix = -1;
                        for (int t = 0; t < TOKENS; t++) {
                            if (tokens[t] == localTokens[i][t]) {
                                agreeing++;
                            } else if (prefix < 0) {
                                prefix = t;
                            }
                        }
                        prefix = prefix < 0 ? TOKENS : prefix;
                        System.out.printf("%s prompt %d (%d tokens): BF16 wire max |logit difference| %.5f"
                                        + " (max |logit| %.3f); greedy tokens agreeing %d/%d, first %d identical%n",
                                model.getFileName(), i, prompts[i].length, maxDifference, maxLogit, agreeing, TOKENS, prefix);
                        assertTrue(maxDifference > 0, "BF16 rounding must change some logit, prompt " + i);
                        assertTrue(maxDifference < 0.05 * maxLogit,
                                "BF16 logit difference " + maxDifference + " is over 5% of the largest logit " + maxLogit);
                    }
                }
            }
        }
    }

    /** Prefills each prompt as its own sequence and returns the logits of its last position. */
    private static float[][] lastLogits(Transformer model, int[][] prompts) {
        int vocab = model.config().vocabSize();
        float[][] logits = new float[prompts.length][vocab];
        for (int i = 0; i < prompts.length; i++) {
            int[] prompt = prompts[i];
            long sequence = 1_000 + i;
            long[] ids = new long[prompt.length];
            Arrays.fill(ids, sequence);
            int[] positions = IntStream.range(0, prompt.length).toArray();
            model.step(ids, prompt, positions, prompt.length, new int[] {prompt.length - 1}, 1, logits[i]);
            model.release(sequence);
        }
        return logits;
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
    }
}
