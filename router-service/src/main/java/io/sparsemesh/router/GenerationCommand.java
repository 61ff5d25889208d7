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
 */
public record GenerationCommand(String requestId, String model, String prompt, int[] promptIds,
                                List<TextCodec.ChatTurn> chat, SamplingParams sampling) {
}
