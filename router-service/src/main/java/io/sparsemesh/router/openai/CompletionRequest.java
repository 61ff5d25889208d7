package io.sparsemesh.router.openai;

import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.TextCodec;

import java.util.List;
import java.util.Set;

/**
 * A validated request to {@code /v1/chat/completions} or {@code /v1/completions}: exactly one of
 * {@code prompt}, {@code promptIds} and {@code messages} is set.
 *
 * @param seed         seed of choice 0; choice {@code i} samples with {@code seed + i}
 * @param n            choices to generate, each its own generation
 * @param includeUsage {@code stream_options.include_usage}: end a stream with a usage chunk
 * @param user         the client's end-user id, only logged
 */
record CompletionRequest(Endpoint endpoint, String model, String prompt, int[] promptIds,
                         List<TextCodec.ChatTurn> messages, double temperature, int topK, double topP, long seed,
                         int maxTokens, List<String> stop, boolean ignoreEos, int n, boolean stream,
                         boolean includeUsage, String user) {

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
        return new SamplingParams(temperature, topK, topP, seed + choice, maxTokens, Set.of(), stop, ignoreEos);
    }

    /** Builds the generation command of choice {@code choice} for {@link io.sparsemesh.router.GenerationService}. */
    GenerationCommand command(String requestId, int choice) {
        return new GenerationCommand(requestId, model, prompt, promptIds, messages, sampling(choice));
    }
}
