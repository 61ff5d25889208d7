package io.sparsemesh.log;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One finished generation (ended by a stop condition, the length limit, cancellation or an error),
 * written by the router to {@value #TOPIC} with the request id as key. The prompt and completion
 * text are null unless the router logs content. Schema:
 * {@code io/sparsemesh/log/schemas/sparsemesh.generations.schema.json}.
 *
 * @param schemaVersion         {@value #SCHEMA_VERSION}
 * @param requestId             the request's correlation id
 * @param timestamp             when the generation finished
 * @param model                 id of the model that served it
 * @param promptTokens          tokens in the prompt
 * @param completionTokens      tokens generated
 * @param timeToFirstTokenMs    from submission to the first generated token in milliseconds, or null if none was generated
 * @param timePerOutputTokenMs  mean time per generated token after the first in milliseconds, or null with fewer than two
 * @param finishReason          {@code stop}, {@code length}, {@code cancelled} or {@code error}
 * @param error                 the failure's message when {@code finishReason} is {@code error}, else null
 * @param prompt                the prompt text when sent as text and content logging is on, else null
 * @param messages              the chat messages when sent as chat and content logging is on, else null
 * @param completion            the generated text when content logging is on, else null
 */
public record GenerationRecord(int schemaVersion, String requestId, Instant timestamp, String model,
                               int promptTokens, int completionTokens, Double timeToFirstTokenMs,
                               Double timePerOutputTokenMs, String finishReason, String error, String prompt,
                               List<Message> messages, String completion) implements LogRecord {

    public static final String TOPIC = "sparsemesh.generations";
    public static final int SCHEMA_VERSION = 1;

    public GenerationRecord {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(timestamp, "timestamp");
        messages = messages == null ? null : List.copyOf(messages);
    }

    /** Creates a record of the current schema version. */
    public GenerationRecord(String requestId, Instant timestamp, String model, int promptTokens,
                            int completionTokens, Double timeToFirstTokenMs, Double timePerOutputTokenMs,
                            String finishReason, String error, String prompt, List<Message> messages,
                            String completion) {
        this(SCHEMA_VERSION, requestId, timestamp, model, promptTokens, completionTokens, timeToFirstTokenMs,
                timePerOutputTokenMs, finishReason, error, prompt, messages, completion);
    }

    @Override
    public String topic() {
        return TOPIC;
    }

    @Override
    public String key() {
        return requestId;
    }

    /** One chat message of the prompt. */
    public record Message(String role, String content) {
    }
}
