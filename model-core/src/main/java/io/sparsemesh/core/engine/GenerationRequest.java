package io.sparsemesh.core.engine;

import io.sparsemesh.core.sampling.SamplingParams;

/**
 * One generation: the prompt as token ids (BOS already added when wanted) and how to sample.
 *
 * @param requestId caller's id, used in logs and metrics
 */
public record GenerationRequest(String requestId, int[] promptTokens, SamplingParams params) {

    public GenerationRequest {
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("the prompt of request " + requestId + " has no tokens");
        }
        promptTokens = promptTokens.clone();
    }
}
