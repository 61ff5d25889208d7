package io.sparsemesh.core.engine;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.GgufTensorStore;
import io.sparsemesh.core.config.GgufConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** stories260K greedy decoding against llama.cpp's published tokens and an independent slow forward pass. */
class StoriesGreedyTest {

    /** "Once upon a time" with BOS, as stories260K's SentencePiece vocabulary encodes it. */
    static final int[] PROMPT = {1, 403, 407, 261, 378};

    /** llama.cpp's greedy continuation: ", there was a little girl named Lily. She loved to play". */
    static final int[] LLAMA_CPP_TOKENS = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337};

    @Test
    void ggufMatchesLlamaCpp() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, null)) {
            assertArrayEquals(LLAMA_CPP_TOKENS, generate(engine, PROMPT, 16));
        }
    }

    @Test
    void llama2cMatchesLlamaCpp() throws Exception {
        try (LocalEngine engine = LocalEngine.open(TestData.storiesBin(), null, null)) {
            assertArrayEquals(LLAMA_CPP_TOKENS, generate(engine, PROMPT, 16));
        }
    }

    /** 200 tokens, far past llama.cpp's 16, must equal a cache-free double-precision recomputation. */
    @Test
    void longGenerationMatchesNaiveForward() throws Exception {
        int count = 200;
        int[] engineTokens;
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 512)) {
            engineTokens = generate(engine, PROMPT, count);
        }

        Path gguf = TestData.storiesGguf();
        try (GgufTensorStore store = GgufTensorStore.open(gguf)) {
            ModelConfig config = GgufConfigReader.read(store.gguf());
            NaiveLlama naive = new NaiveLlama(config, store);
            int[] sequence = Arrays.copyOf(PROMPT, PROMPT.length + count);
            for (int i = 0; i < count; i++) {
                double[] logits = naive.lastLogits(Arrays.copyOf(sequence, PROMPT.length + i));
                int best = 0;
                for (int v = 1; v < logits.length; v++) {
                    if (logits[v] > logits[best]) {
                        best = v;
                    }
                }
                assertEquals(best, engineTokens[i], "token " + i + " differs from the naive forward pass");
                sequence[PROMPT.length + i] = best;
            }
        }
    }

    /** Many sequences batched together produce exactly what each produces alone. */
    @Test
    void batchedEqualsSingle() throws Exception {
        int[][] prompts = {PROMPT, {1, 403}, {1, 403, 407, 261, 378, 432, 383, 286}, {1}};
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 256)) {
            int[][] alone = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                alone[i] = generate(engine, prompts[i], 40);
            }
            List<CompletableFuture<int[]>> together = new ArrayList<>();
            for (int[] prompt : prompts) {
                together.add(submit(engine, prompt, 40));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertArrayEquals(alone[i], together.get(i).get(60, TimeUnit.SECONDS), "prompt " + i);
            }
        }
    }

    /** A prompt longer than the prefill chunk is prefilled over several steps with the same result. */
    @Test
    void chunkedPrefillEqualsWhole() throws Exception {
        int[] prompt = new int[40];
        prompt[0] = 1;
        System.arraycopy(LLAMA_CPP_TOKENS, 0, prompt, 1, 16);
        for (int i = 17; i < prompt.length; i++) {
            prompt[i] = LLAMA_CPP_TOKENS[i % 16];
        }
        int[] whole;
        try (LocalEngine engine = LocalEngine.open(TestData.storiesGguf(), null, 128)) {
            whole = generate(engine, prompt, 20);
        }
        assertEquals(20, whole.length);
        var store = GgufTensorStore.open(TestData.storiesGguf());
        ModelConfig config = GgufConfigReader.read(store.gguf());
        try (var scheduler = new Scheduler(TransformerLoader.loadLocal(config, store, 128), new EngineOptions(8, 3, 4, 128))) {
            int[] chunked = collect(scheduler, prompt, 20).get(60, TimeUnit.SECONDS);
            assertArrayEquals(whole, chunked);
        } finally {
            store.close();
        }
    }

    static int[] generate(LocalEngine engine, int[] prompt, int count) throws Exception {
        return submit(engine, prompt, count).get(120, TimeUnit.SECONDS);
    }

    static CompletableFuture<int[]> submit(LocalEngine engine, int[] prompt, int count) {
        return collect(engine.scheduler(), prompt, count);
    }

    static CompletableFuture<int[]> collect(Scheduler scheduler, int[] prompt, int count) {
        return TokenCollector.submit(scheduler,
                new GenerationRequest("test", prompt, SamplingParams.greedy(count).withIgnoreEos(true)));
    }
}
