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
 *
 * <p>With token ids on ({@code return_token_ids}, or a model without a tokenizer) the shapes
 * carry vLLM's extension fields: {@code token_ids} in every choice (in a chunk: the ids that
 * chunk adds), and the prompt's ids as {@code prompt_token_ids}, in each choice for completions
 * and at the top level for chat, in a stream only in the first chunk.
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

    /** One choice of a non-streaming response; {@code tokenIds} is null when token ids are off. */
    record Choice(String text, String finishReason, int[] tokenIds) {
    }

    private final String id;
    private final long created;
    private final String model;
    private final boolean includeUsage;
    /** The prompt's token ids when token ids are on, else null. */
    private final int[] promptIds;

    private CompletionFormat(String id, long created, String model, boolean includeUsage, int[] promptIds) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.includeUsage = includeUsage;
        this.promptIds = promptIds;
    }

    /**
     * @param created      Unix time in seconds
     * @param includeUsage whether chunks carry {@code "usage": null} ahead of the final usage chunk
     * @param promptIds    the prompt's token ids when the response carries token ids, or null
     */
    static CompletionFormat of(Endpoint endpoint, String requestId, long created, String model, boolean includeUsage,
                               int[] promptIds) {
        return switch (endpoint) {
            case CHAT -> new Chat("chatcmpl-" + requestId, created, model, includeUsage, promptIds);
            case COMPLETIONS -> new Text("cmpl-" + requestId, created, model, includeUsage, promptIds);
        };
    }

    /** Returns whether choices carry {@code token_ids}. */
    boolean tokenIds() {
        return promptIds != null;
    }

    /** Builds the chunk that opens a choice's stream, or returns null when the shape has none. */
    abstract ObjectNode openingChunk(int choice);

    /** Builds a chunk of new text; {@code ids} are the tokens behind it, used only when token ids are on. */
    ObjectNode textChunk(int choice, String text, int[] ids) {
        ObjectNode chunk = chunk(choice, text, null, false);
        if (tokenIds()) {
            putIds(choiceOf(chunk), "token_ids", ids);
        }
        return chunk;
    }

    ObjectNode finishChunk(int choice, String finishReason) {
        ObjectNode chunk = chunk(choice, null, finishReason, false);
        if (tokenIds()) {
            putIds(choiceOf(chunk), "token_ids", new int[0]);
        }
        return chunk;
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
            if (tokenIds()) {
                putIds(choice, "token_ids", choices.get(i).tokenIds());
                putPromptIds(body, choice);
            }
            array.add(choice);
        }
        body.set("usage", usage.toJson());
        return body;
    }

    /** Puts {@code prompt_token_ids} where the shape keeps it: in {@code response} or in {@code choice}. */
    abstract void putPromptIds(ObjectNode response, ObjectNode choice);

    int[] promptIds() {
        return promptIds;
    }

    static void putIds(ObjectNode node, String field, int[] ids) {
        ArrayNode array = node.putArray(field);
        for (int tokenId : ids) {
            array.add(tokenId);
        }
    }

    private static ObjectNode choiceOf(ObjectNode chunk) {
        return (ObjectNode) chunk.get("choices").get(0);
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

        Chat(String id, long created, String model, boolean includeUsage, int[] promptIds) {
            super(id, created, model, includeUsage, promptIds);
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
            ObjectNode chunk = chunk(choice, "", null, true);
            if (tokenIds()) {
                putIds(choiceOf(chunk), "token_ids", new int[0]);
                putPromptIds(chunk, null);
            }
            return chunk;
        }

        @Override
        void putPromptIds(ObjectNode response, ObjectNode choice) {
            putIds(response, "prompt_token_ids", promptIds());
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

        Text(String id, long created, String model, boolean includeUsage, int[] promptIds) {
            super(id, created, model, includeUsage, promptIds);
        }

        @Override
        String bodyObject() {
            return "text_completion";
        }

        @Override
        String chunkObject() {
            return "text_completion";
        }

        /** Opens only when token ids are on: an empty chunk that carries the prompt's ids. */
        @Override
        ObjectNode openingChunk(int choice) {
            if (!tokenIds()) {
                return null;
            }
            ObjectNode chunk = textChunk(choice, "", new int[0]);
            putPromptIds(chunk, choiceOf(chunk));
            return chunk;
        }

        @Override
        void putPromptIds(ObjectNode response, ObjectNode choice) {
            putIds(choice, "prompt_token_ids", promptIds());
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
