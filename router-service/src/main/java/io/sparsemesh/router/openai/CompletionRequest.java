package io.sparsemesh.router.openai;

import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.GenerationCommand.MaxTokensPolicy;
import io.sparsemesh.router.TextCodec;

import java.util.List;
import java.util.Set;

/**
 * A validated request to {@code /v1/chat/completions} or {@code /v1/completions}: exactly one of
 * {@code prompt}, {@code promptIds} and {@code messages} is set.
 *
 * @param seed           seed of choice 0; choice {@code i} samples with {@code seed + i}
 * @param maxTokens      output tokens per choice: the client's value, or the server default, which
 *                       is lowered to the room the prompt leaves in the context
 * @param maxTokensParam the field that set {@code maxTokens} ({@code max_tokens} or
 *                       {@code max_completion_tokens}), or null when it is the server default
 * @param stopTokenIds   token ids that end a choice, besides the model's end-of-sequence tokens
 * @param n              choices to generate, each its own generation
 * @param includeUsage   {@code stream_options.include_usage}: end a stream with a usage chunk
 * @param tokenIds       whether choices carry {@code token_ids} and the response {@code prompt_token_ids}
 * @param user           the client's end-user id, only logged
 * @param ignoredFields  top-level fields of the request that this server ignores, for the log
 */
record CompletionRequest(Endpoint endpoint, String model, String prompt, int[] promptIds,
                         List<TextCodec.ChatTurn> messages, double temperature, int topK, double topP, long seed,
                         int maxTokens, String maxTokensParam, List<String> stop, Set<Integer> stopTokenIds,
                         boolean ignoreEos, int n, boolean stream, boolean includeUsage, boolean tokenIds, String user,
                         List<String> ignoredFields) {

    /** The two generation endpoints; they differ in the prompt field and in the response shapes. */
    enum Endpoint {
        CHAT("messages"),
        COMPLETIONS("prompt");

        private final String promptField;

        Endpoint(String promptField) {
            this.promptField = promptField;
        }

        /** Returns the request field that carries the prompt. */
        String promptField() {
            return promptField;
        }
    }

    SamplingParams sampling(int choice) {
        return new SamplingParams(temperature, topK, topP, seed + choice, maxTokens, stopTokenIds, stop, ignoreEos);
    }

    /** Builds the generation command of choice {@code choice} for {@link io.sparsemesh.router.GenerationService}. */
    GenerationCommand command(String requestId, int choice) {
        MaxTokensPolicy policy = maxTokensParam != null ? MaxTokensPolicy.REJECT_OVER_CONTEXT : MaxTokensPolicy.FIT_TO_CONTEXT;
        return new GenerationCommand(requestId, model, prompt, promptIds, messages, sampling(choice), policy);
    }
}
