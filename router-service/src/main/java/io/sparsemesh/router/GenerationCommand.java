package io.sparsemesh.router;

import io.sparsemesh.core.sampling.SamplingParams;

import java.util.List;

/**
 * A validated generation request as the router's front ends (gRPC, HTTP) hand it to
 * {@link GenerationService}: exactly one of the three prompt forms is set.
 *
 * @param requestId   correlation id for logs, metrics and Kafka records
 * @param prompt      prompt text, or null
 * @param promptIds   prompt token ids fed as given, or null
 * @param chat        chat messages to render with the chat template, or null
 * @param maxTokens   how {@code sampling.maxTokens()} is fitted to the room the prompt leaves in the context
 */
public record GenerationCommand(String requestId, String model, String prompt, int[] promptIds,
                                List<TextCodec.ChatTurn> chat, SamplingParams sampling, MaxTokensPolicy maxTokens) {

    /** A command whose generation stops at the end of the context, as the gRPC API's do. */
    public GenerationCommand(String requestId, String model, String prompt, int[] promptIds,
                             List<TextCodec.ChatTurn> chat, SamplingParams sampling) {
        this(requestId, model, prompt, promptIds, chat, sampling, MaxTokensPolicy.STOP_AT_CONTEXT);
    }

    /** Policy for a {@code max_tokens} larger than the room that the prompt leaves in the context. */
    public enum MaxTokensPolicy {
        /** Generate until {@code max_tokens} or the end of the context, whichever comes first (finish reason length). */
        STOP_AT_CONTEXT,
        /**
         * The client set {@code max_tokens}: reject the request with {@link ContextLengthExceededException}
         * when the prompt plus {@code max_tokens} exceed the context.
         */
        REJECT_OVER_CONTEXT,
        /** {@code max_tokens} is a server default: lower it to the room the prompt leaves. */
        FIT_TO_CONTEXT
    }
}
