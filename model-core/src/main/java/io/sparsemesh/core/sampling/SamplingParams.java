package io.sparsemesh.core.sampling;

import java.util.List;
import java.util.Set;

/**
 * How to pick tokens and when to stop.
 *
 * @param temperature  0 for greedy decoding; otherwise logits are divided by it before softmax
 * @param topK         keep only the k most likely tokens (0 keeps all)
 * @param topP         keep the smallest set of tokens whose probability reaches p (1 keeps all)
 * @param seed         seed of the sequence's random generator, for reproducible sampling
 * @param maxTokens    tokens to generate at most
 * @param stopTokenIds tokens that end generation (in addition to the model's EOS unless ignoreEos)
 * @param stopStrings  strings that end generation; the text up to them is kept, they are not
 * @param ignoreEos    keep generating past the model's end-of-sequence tokens
 */
public record SamplingParams(double temperature, int topK, double topP, long seed, int maxTokens,
                             Set<Integer> stopTokenIds, List<String> stopStrings, boolean ignoreEos) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        stopTokenIds = Set.copyOf(stopTokenIds);
        stopStrings = List.copyOf(stopStrings);
        for (String stop : stopStrings) {
            if (stop.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 0, 1, 0, maxTokens, Set.of(), List.of(), false);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(temperature, topK, topP, seed, maxTokens, stopTokenIds, stopStrings, ignore);
    }

    public SamplingParams withMaxTokens(int tokens) {
        return new SamplingParams(temperature, topK, topP, seed, tokens, stopTokenIds, stopStrings, ignoreEos);
    }
}
