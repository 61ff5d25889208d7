package io.sparsemesh.router.openai;

import io.sparsemesh.router.TextCodec;
import io.sparsemesh.router.openai.CompletionRequest.Endpoint;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Validates the JSON body of a completion request into a {@link CompletionRequest}, field by
 * field, so every rejection names the field and what to send instead.
 *
 * <p>Fields the API defines but this server does not act on are accepted and ignored, as are
 * unknown fields. NOTE: that includes {@code frequency_penalty}, {@code presence_penalty},
 * {@code logit_bias}, {@code logprobs}, {@code tools} and {@code response_format}, so a client
 * that sets them gets plain sampled text. {@code top_k} and {@code ignore_eos} are accepted as
 * extensions, with vLLM's meaning.
 */
final class CompletionRequestParser {

    static final String CHAT_EXAMPLE = "{\"model\": \"MODEL\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}";
    static final String COMPLETION_EXAMPLE = "{\"model\": \"MODEL\", \"prompt\": \"Once upon a time\"}";

    /** Most choices one request may ask for, as in OpenAI's API. */
    static final int MAX_CHOICES = 128;
    /** Most stop sequences, as in OpenAI's API. */
    static final int MAX_STOP_SEQUENCES = 4;
    /** Output tokens of {@code /v1/completions} when {@code max_tokens} is absent, as in OpenAI's API. */
    static final int DEFAULT_COMPLETION_TOKENS = 16;

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private final int contextLength;

    /** @param contextLength tokens per sequence, prompt plus output */
    CompletionRequestParser(int contextLength) {
        this.contextLength = contextLength;
    }

    CompletionRequest parse(Endpoint endpoint, ObjectNode body) {
        JsonFields fields = new JsonFields(body, "");
        String model = fields.string("model");
        if (model == null) {
            throw fields.missing("model", "the id of a model that GET /v1/models lists");
        }
        if (model.isEmpty()) {
            throw OpenAiException.invalid("model", "invalid_value",
                    "Invalid value for 'model': it is empty; send the id of a model that GET /v1/models lists.");
        }

        String prompt = null;
        int[] promptIds = null;
        List<TextCodec.ChatTurn> messages = null;
        int defaultMaxTokens;
        Integer maxTokens = fields.integer("max_tokens", 1, contextLength - 1);
        if (endpoint == Endpoint.CHAT) {
            messages = messages(fields.required("messages", "a non-empty array of messages, e.g. " + CHAT_EXAMPLE));
            maxTokens = reconcile(maxTokens, fields.integer("max_completion_tokens", 1, contextLength - 1));
            // a chat reply may use all of the context the prompt leaves; the scheduler ends it there
            defaultMaxTokens = contextLength;
        } else {
            JsonNode node = fields.required("prompt", "a string, e.g. " + COMPLETION_EXAMPLE);
            if (node.isString()) {
                prompt = node.stringValue();
            } else {
                Object parsed = promptArray(node);
                if (parsed instanceof String text) {
                    prompt = text;
                } else {
                    promptIds = (int[]) parsed;
                }
            }
            defaultMaxTokens = DEFAULT_COMPLETION_TOKENS;
        }

        double temperature = orDefault(fields.number("temperature", 0, false, 2), 1.0);
        double topP = orDefault(fields.number("top_p", 0, true, 1), 1.0);
        Integer topK = fields.integer("top_k", -1, Integer.MAX_VALUE);
        Long seed = fields.longInteger("seed");
        int n = orDefault(fields.integer("n", 1, MAX_CHOICES), 1);
        boolean stream = orDefault(fields.bool("stream"), false);
        boolean includeUsage = includeUsage(fields);
        boolean ignoreEos = orDefault(fields.bool("ignore_eos"), false);
        String user = fields.string("user");
        return new CompletionRequest(endpoint, model, prompt, promptIds, messages, temperature,
                topK == null || topK < 0 ? 0 : topK, topP,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(),
                maxTokens != null ? maxTokens : defaultMaxTokens, stop(fields), ignoreEos, n, stream, includeUsage, user);
    }

    /** Merges {@code max_tokens} and its newer name {@code max_completion_tokens}, which must agree when both are set. */
    private static Integer reconcile(Integer maxTokens, Integer maxCompletionTokens) {
        if (maxTokens != null && maxCompletionTokens != null && !maxTokens.equals(maxCompletionTokens)) {
            throw OpenAiException.invalid("max_completion_tokens", "invalid_value",
                    "'max_tokens' (" + maxTokens + ") and 'max_completion_tokens' (" + maxCompletionTokens
                            + ") disagree; send only 'max_completion_tokens'.");
        }
        return maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
    }

    private static List<TextCodec.ChatTurn> messages(JsonNode node) {
        if (!node.isArray()) {
            throw JsonFields.wrongType("messages", node, "an array of messages, e.g. " + CHAT_EXAMPLE);
        }
        if (node.isEmpty()) {
            throw OpenAiException.invalid("messages", "empty_array",
                    "Invalid value for 'messages': the array is empty; send at least one message, e.g. "
                            + CHAT_EXAMPLE + ".");
        }
        List<TextCodec.ChatTurn> turns = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String path = "messages[" + i + "]";
            if (!(node.get(i) instanceof ObjectNode message)) {
                throw JsonFields.wrongType(path, node.get(i), "an object such as {\"role\": \"user\", \"content\": \"Hello\"}");
            }
            JsonFields fields = new JsonFields(message, path);
            fields.required("role", "one of system, user or assistant");
            String role = fields.string("role");
            if (!ROLES.contains(role)) {
                throw OpenAiException.invalid(path + ".role", "invalid_value", "Invalid value for '" + path
                        + ".role': '" + role + "' is not supported; send system, user or assistant.");
            }
            turns.add(new TextCodec.ChatTurn("developer".equals(role) ? "system" : role, content(fields, role)));
        }
        return turns;
    }

    /**
     * Reads a message's content: a string, or an array of {@code {"type": "text", "text": ...}} parts,
     * which are joined with newlines. An assistant message may have null content.
     */
    private static String content(JsonFields fields, String role) {
        JsonNode content = fields.get("content");
        String path = fields.path("content");
        if (content == null) {
            if ("assistant".equals(role)) {
                return "";
            }
            throw fields.missing("content", "the message text as a string");
        }
        if (content.isString()) {
            return content.stringValue();
        }
        if (!content.isArray()) {
            throw JsonFields.wrongType(path, content, "a string or an array of text parts");
        }
        List<String> texts = new ArrayList<>(content.size());
        for (int i = 0; i < content.size(); i++) {
            String partPath = path + "[" + i + "]";
            if (!(content.get(i) instanceof ObjectNode part)) {
                throw JsonFields.wrongType(partPath, content.get(i), "an object such as {\"type\": \"text\", \"text\": \"Hello\"}");
            }
            JsonFields partFields = new JsonFields(part, partPath);
            String type = partFields.string("type");
            if (!"text".equals(type)) {
                throw OpenAiException.invalid(partPath + ".type", "invalid_value", "Invalid value for '" + partPath
                        + ".type': " + (type == null ? "it is missing" : "'" + type + "' is not supported")
                        + "; this model reads text only, so send {\"type\": \"text\", \"text\": \"...\"}.");
            }
            partFields.required("text", "the part's text as a string");
            texts.add(partFields.string("text"));
        }
        return String.join("\n", texts);
    }

    /**
     * Reads an array prompt: one string, token ids, or one array of token ids. Returns the string
     * or the ids; several prompts in one request are rejected.
     */
    private static Object promptArray(JsonNode node) {
        String expected = "a string, an array of one string, or an array of token ids";
        if (!node.isArray()) {
            throw JsonFields.wrongType("prompt", node, expected);
        }
        if (node.isEmpty()) {
            throw OpenAiException.invalid("prompt", "empty_array",
                    "Invalid value for 'prompt': the array is empty; send " + expected + ".");
        }
        JsonNode first = node.get(0);
        if (first.isString() || first.isArray()) {
            if (node.size() > 1) {
                throw OpenAiException.invalid("prompt", "invalid_value", "Invalid value for 'prompt': it contains "
                        + node.size() + " prompts, but this server takes one prompt per request; send one"
                        + " prompt per request, and use 'n' for several completions of it.");
            }
            if (first.isString()) {
                return first.stringValue();
            }
            if (first.isEmpty()) {
                throw OpenAiException.invalid("prompt[0]", "empty_array",
                        "Invalid value for 'prompt[0]': the array of token ids is empty; send at least one token id.");
            }
            return tokenIds(first, "prompt[0]");
        }
        return tokenIds(node, "prompt");
    }

    private static int[] tokenIds(JsonNode array, String path) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = array.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw JsonFields.wrongType(path + "[" + i + "]", id, "a token id (a non-negative integer)");
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    private static boolean includeUsage(JsonFields fields) {
        JsonNode options = fields.get("stream_options");
        if (options == null) {
            return false;
        }
        if (!(options instanceof ObjectNode object)) {
            throw JsonFields.wrongType("stream_options", options, "an object such as {\"include_usage\": true}");
        }
        return orDefault(new JsonFields(object, "stream_options").bool("include_usage"), false);
    }

    private static List<String> stop(JsonFields fields) {
        JsonNode node = fields.get("stop");
        if (node == null) {
            return List.of();
        }
        String expected = "a string or an array of up to " + MAX_STOP_SEQUENCES + " strings";
        if (node.isString()) {
            return List.of(nonEmptyStop(node.stringValue(), "stop"));
        }
        if (!node.isArray()) {
            throw JsonFields.wrongType("stop", node, expected);
        }
        if (node.size() > MAX_STOP_SEQUENCES) {
            throw OpenAiException.invalid("stop", "array_above_max_length", "Invalid value for 'stop': it contains "
                    + node.size() + " stop sequences; send at most " + MAX_STOP_SEQUENCES + ".");
        }
        List<String> stops = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode stop = node.get(i);
            if (!stop.isString()) {
                throw JsonFields.wrongType("stop[" + i + "]", stop, "a string");
            }
            stops.add(nonEmptyStop(stop.stringValue(), "stop[" + i + "]"));
        }
        return stops;
    }

    private static String nonEmptyStop(String stop, String path) {
        if (stop.isEmpty()) {
            throw OpenAiException.invalid(path, "invalid_value",
                    "Invalid value for '" + path + "': the stop sequence is empty; send a non-empty string.");
        }
        return stop;
    }

    private static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
