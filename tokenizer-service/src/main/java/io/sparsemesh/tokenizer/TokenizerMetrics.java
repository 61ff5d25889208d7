package io.sparsemesh.tokenizer;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * Micrometer meters of the tokenizer service, in Prometheus form:
 * {@code sparsemesh_tokenizer_requests_total{method,status}},
 * {@code sparsemesh_tokenizer_request_duration_seconds{method}},
 * {@code sparsemesh_tokenizer_tokens_total{operation="encode"|"decode"}} and
 * {@code sparsemesh_tokenizer_chat_dropped_messages_total}, the messages a model without a chat
 * template leaves out of its prompt.
 */
public final class TokenizerMetrics {

    private final MeterRegistry registry;
    private final Counter encodedTokens;
    private final Counter decodedTokens;
    private final Counter droppedMessages;

    public TokenizerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.encodedTokens = Counter.builder("sparsemesh.tokenizer.tokens").tag("operation", "encode")
                .description("Token ids produced by Encode and ApplyChatTemplate").register(registry);
        this.decodedTokens = Counter.builder("sparsemesh.tokenizer.tokens").tag("operation", "decode")
                .description("Token ids turned into text by Decode and DecodeStream").register(registry);
        this.droppedMessages = Counter.builder("sparsemesh.tokenizer.chat.dropped.messages")
                .description("Chat messages left out of the prompt because the model has no chat template")
                .register(registry);
    }

    /** Counts one finished request of {@code method} and records how long it took. */
    public void request(String method, Status.Code status, Duration elapsed) {
        Counter.builder("sparsemesh.tokenizer.requests").tag("method", method).tag("status", status.name())
                .description("Tokenizer requests by method and gRPC status").register(registry).increment();
        Timer.builder("sparsemesh.tokenizer.request.duration").tag("method", method)
                .description("Time to serve a tokenizer request; a DecodeStream counts per message")
                .register(registry).record(elapsed);
    }

    public void encoded(int tokens) {
        encodedTokens.increment(tokens);
    }

    public void decoded(int tokens) {
        decodedTokens.increment(tokens);
    }

    public void droppedMessages(int messages) {
        droppedMessages.increment(messages);
    }
}
