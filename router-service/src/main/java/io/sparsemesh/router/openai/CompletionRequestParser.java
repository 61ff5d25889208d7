package io.sparsemesh.router.openai;

import io.sparsemesh.router.TextCodec;
import io.sparsemesh.router.openai.CompletionRequest.Endpoint;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Validates the JSON body of a completion request into a {@link CompletionRequest}, field by
 * field, so every rejection names the field and what to send instead.
 *
 * <p>A field whose feature this server lacks (log probabilities, tools, penalties, JSON mode...)
 * is rejected unless its value leaves the feature off; {@link RequestFields} has the list. Other
 * fields the server does not act on, known or not, are accepted and ignored. {@code top_k},
 * {@code ignore_eos}, {@code stop_token_ids} and {@code return_token_ids} are accepted as
 * extensions, with vLLM's meaning.
 */
final class CompletionRequestParser {

    static final String CHAT_EXAMPLE = "{\"model\": \"MODEL\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}";
    static final String COMPLETION_EXAMPLE = "{\"model\": \"MODEL\", \"prompt\": \"Once upon a time\"}";
    static final String TOKEN_IDS_EXAMPLE = "{\"model\": \"MODEL\", \"prompt\": [1, 403, 407]}";

    /** Most choices one request may ask for, as in OpenAI's API. */
    static final int MAX_CHOICES = 128;
    /** Most stop sequences, as in OpenAI's API. */
    static final int MAX_STOP_SEQUENCES = 4;

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private final int contextLength;
    private final Integer defaultMaxTokens;
    private final boolean hasTokenizer;

    /**
     * @param contextLength    tokens per sequence, prompt plus output
     * @param defaultMaxTokens output tokens when a request sets none, or null for all the room the prompt leaves
     * @param hasTokenizer     whether the model reads and writes text; without a tokenizer prompts must be token ids
     */
    CompletionRequestParser(int contextLength, Integer defaultMaxTokens, boolean hasTokenizer) {
        this.contextLength = contextLength;
        this.defaultMaxTokens = defaultMaxTokens;
        this.hasTokenizer = hasTokenizer;
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
        String maxTokensParam = fields.get("max_tokens") != null ? "max_tokens" : null;
        Integer maxTokens = fields.integer("max_tokens", 1, Integer.MAX_VALUE);
        if (endpoint == Endpoint.CHAT) {
            if (!hasTokenizer) {
                throw noTokenizer("messages", "it cannot read chat messages; send the prompt as token ids to"
                        + " POST /v1/completions instead, e.g. " + TOKEN_IDS_EXAMPLE);
            }
            messages = messages(fields.required("messages", "a non-empty array of messages, e.g. " + CHAT_EXAMPLE));
            Integer maxCompletionTokens = fields.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
            if (maxCompletionTokens != null) {
                maxTokensParam = "max_completion_tokens";
            }
            maxTokens = reconcile(maxTokens, maxCompletionTokens);
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
            if (prompt != null && !hasTokenizer) {
                throw noTokenizer("prompt", "'prompt' cannot be text; send it as an array of token ids, e.g. "
                        + TOKEN_IDS_EXAMPLE);
            }
        }
        RequestFields.rejectUnsupported(endpoint, fields);

        double temperature = orDefault(fields.number("temperature", 0, false, 2), 1.0);
        double topP = orDefault(fields.number("top_p", 0, true, 1), 1.0);
        Integer topK = fields.integer("top_k", -1, Integer.MAX_VALUE);
        Long seed = fields.longInteger("seed");
        int n = orDefault(fields.integer("n", 1, MAX_CHOICES), 1);
        if (endpoint == Endpoint.COMPLETIONS) {
            checkBestOf(fields, n);
        }
        boolean stream = orDefault(fields.bool("stream"), false);
        boolean includeUsage = includeUsage(fields);
        boolean ignoreEos = orDefault(fields.bool("ignore_eos"), false);
        // a model without a tokenizer returns empty text, so its output is always given as token ids
        boolean tokenIds = orDefault(fields.bool("return_token_ids"), false) || !hasTokenizer;
        String user = fields.string("user");
        int resolvedMaxTokens = maxTokens != null ? maxTokens
                : defaultMaxTokens != null ? defaultMaxTokens : contextLength;
        return new CompletionRequest(endpoint, model, prompt, promptIds, messages, temperature,
                topK == null || topK < 0 ? 0 : topK, topP,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(),
                resolvedMaxTokens, maxTokens != null ? maxTokensParam : null, stop(fields), stopTokenIds(fields),
                ignoreEos, n, stream, includeUsage, tokenIds, user, RequestFields.ignored(endpoint, body));
    }

    private static OpenAiException noTokenizer(String param, String fix) {
        return OpenAiException.invalid(param, "model_has_no_tokenizer",
                "Invalid value for '" + param + "': the served model has no tokenizer, so " + fix + ".");
    }

    /** Accepts {@code best_of} only when it equals {@code n}: this server returns every choice it generates. */
    private static void checkBestOf(JsonFields fields, int n) {
        Integer bestOf = fields.integer("best_of", 1, MAX_CHOICES);
        if (bestOf != null && bestOf != n) {
            throw OpenAiException.invalid("best_of", "unsupported_parameter", "Unsupported value of 'best_of': "
                    + bestOf + " with n " + n + " asks to keep the best of several completions, but this server"
                    + " returns every completion it generates; remove 'best_of' or set it to n (" + n + ").");
        }
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

    private static Set<Integer> stopTokenIds(JsonFields fields) {
        JsonNode node = fields.get("stop_token_ids");
        if (node == null) {
            return Set.of();
        }
        if (!node.isArray()) {
            throw JsonFields.wrongType("stop_token_ids", node, "an array of token ids");
        }
        Set<Integer> ids = new HashSet<>();
        for (int id : tokenIds(node, "stop_token_ids")) {
            ids.add(id);
        }
        return ids;
    }

    private List<String> stop(JsonFields fields) {
        JsonNode node = fields.get("stop");
        if (node == null) {
            return List.of();
        }
        if (!hasTokenizer) {
            throw noTokenizer("stop", "its output has no text for stop strings to match; send 'stop_token_ids'"
                    + " with token ids instead");
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
