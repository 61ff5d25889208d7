package io.sparsemesh.router.openai;

import io.sparsemesh.router.openai.CompletionRequest.Endpoint;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * The response shapes of one endpoint: {@code chat.completion} and {@code chat.completion.chunk}
 * for chat, {@code text_completion} for completions. Every chunk and body of one request carries
 * the same {@code id}, {@code created} and {@code model}.
 */
abstract sealed class CompletionFormat {

    /** Token counts of a whole request; the prompt counts once however many choices ran. */
    record Usage(int promptTokens, int completionTokens) {
        ObjectNode toJson() {
            ObjectNode usage = JsonNodeFactory.instance.objectNode();
            usage.put("prompt_tokens", promptTokens);
            usage.put("completion_tokens", completionTokens);
            usage.put("total_tokens", promptTokens + completionTokens);
            return usage;
        }
    }

    /** One choice of a non-streaming response. */
    record Choice(String text, String finishReason) {
    }

    private final String id;
    private final long created;
    private final String model;
    private final boolean includeUsage;

    private CompletionFormat(String id, long created, String model, boolean includeUsage) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.includeUsage = includeUsage;
    }

    /**
     * @param created      Unix time in seconds
     * @param includeUsage whether chunks carry {@code "usage": null} ahead of the final usage chunk
     */
    static CompletionFormat of(Endpoint endpoint, String requestId, long created, String model, boolean includeUsage) {
        return switch (endpoint) {
            case CHAT -> new Chat("chatcmpl-" + requestId, created, model, includeUsage);
            case COMPLETIONS -> new Text("cmpl-" + requestId, created, model, includeUsage);
        };
    }

    /** Builds the chunk that opens a choice's stream, or returns null when the shape has none. */
    abstract ObjectNode openingChunk(int choice);

    ObjectNode textChunk(int choice, String text) {
        return chunk(choice, text, null, false);
    }

    ObjectNode finishChunk(int choice, String finishReason) {
        return chunk(choice, null, finishReason, false);
    }

    /** Builds the last chunk when {@code stream_options.include_usage} is set: no choices, only the usage. */
    ObjectNode usageChunk(Usage usage) {
        ObjectNode chunk = header(chunkObject());
        chunk.putArray("choices");
        chunk.set("usage", usage.toJson());
        return chunk;
    }

    /** Builds the whole response of a non-streaming request. */
    ObjectNode body(List<Choice> choices, Usage usage) {
        ObjectNode body = header(bodyObject());
        ArrayNode array = body.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            ObjectNode choice = JsonNodeFactory.instance.objectNode();
            choice.put("index", i);
            putMessage(choice, choices.get(i).text());
            choice.putNull("logprobs");
            choice.put("finish_reason", choices.get(i).finishReason());
            array.add(choice);
        }
        body.set("usage", usage.toJson());
        return body;
    }

    /** Builds a chunk of one choice; {@code text} is null in a chunk that only ends the choice. */
    ObjectNode chunk(int index, String text, String finishReason, boolean opening) {
        ObjectNode choice = JsonNodeFactory.instance.objectNode();
        choice.put("index", index);
        putDelta(choice, text, opening);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);

        ObjectNode chunk = header(chunkObject());
        chunk.putArray("choices").add(choice);
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    private ObjectNode header(String object) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("id", id);
        node.put("object", object);
        node.put("created", created);
        node.put("model", model);
        return node;
    }

    /** Returns the {@code object} value of a whole response. */
    abstract String bodyObject();

    /** Returns the {@code object} value of a stream chunk. */
    abstract String chunkObject();

    /** Puts a choice's whole text into a response body's choice. */
    abstract void putMessage(ObjectNode choice, String text);

    /** Puts new text, or null for none, into a chunk's choice; {@code opening} marks a choice's first chunk. */
    abstract void putDelta(ObjectNode choice, String text, boolean opening);

    /** Chat shapes: the text is in {@code delta.content} (chunks) or {@code message.content} (body). */
    static final class Chat extends CompletionFormat {

        Chat(String id, long created, String model, boolean includeUsage) {
            super(id, created, model, includeUsage);
        }

        @Override
        String bodyObject() {
            return "chat.completion";
        }

        @Override
        String chunkObject() {
            return "chat.completion.chunk";
        }

        /** Opens with the assistant role and empty content, as OpenAI's streams do. */
        @Override
        ObjectNode openingChunk(int choice) {
            return chunk(choice, "", null, true);
        }

        @Override
        void putMessage(ObjectNode choice, String text) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
            message.putNull("refusal");
        }

        @Override
        void putDelta(ObjectNode choice, String text, boolean opening) {
            ObjectNode delta = choice.putObject("delta");
            if (opening) {
                delta.put("role", "assistant");
            }
            if (text != null) {
                delta.put("content", text);
            }
        }
    }

    /** Completion shapes: the text is in {@code choices[].text}, in chunks and body alike. */
    static final class Text extends CompletionFormat {

        Text(String id, long created, String model, boolean includeUsage) {
            super(id, created, model, includeUsage);
        }

        @Override
        String bodyObject() {
            return "text_completion";
        }

        @Override
        String chunkObject() {
            return "text_completion";
        }

        @Override
        ObjectNode openingChunk(int choice) {
            return null;
        }

        @Override
        void putMessage(ObjectNode choice, String text) {
            choice.put("text", text);
        }

        @Override
        void putDelta(ObjectNode choice, String text, boolean opening) {
            choice.put("text", text == null ? "" : text);
        }
    }
}
