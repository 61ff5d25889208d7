package io.sparsemesh.router.openai;

import io.sparsemesh.router.openai.CompletionRequest.Endpoint;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The request fields of the two generation endpoints, in three groups: those this server acts on,
 * those whose feature it lacks and which it rejects unless their value leaves the feature off,
 * and every other field, which it accepts and ignores (OpenAI SDKs send fields such as
 * {@code store} or {@code metadata} that do not change the output). docs/api.md lists the groups
 * with reasons; keep the two in step.
 */
final class RequestFields {

    private static final Set<Endpoint> BOTH = EnumSet.allOf(Endpoint.class);
    private static final Set<Endpoint> CHAT = EnumSet.of(Endpoint.CHAT);
    private static final Set<Endpoint> COMPLETIONS = EnumSet.of(Endpoint.COMPLETIONS);

    private static final Set<String> SHARED = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "n",
            "stream", "stream_options", "stop", "stop_token_ids", "seed", "user", "ignore_eos", "return_token_ids");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens");
    private static final Set<String> COMPLETIONS_ONLY = Set.of("prompt", "best_of");

    /**
     * A field whose feature this server lacks.
     *
     * @param off      the values that leave the feature off and so are accepted; never true for a field
     *                 without such a value
     * @param lacking  what the server does not do, as a clause
     * @param offValue the accepted value to suggest, as JSON, or null when there is none
     */
    private record Unsupported(String name, Set<Endpoint> endpoints, Predicate<JsonNode> off, String lacking,
                               String offValue) {
    }

    private static final List<Unsupported> UNSUPPORTED = List.of(
            new Unsupported("logprobs", BOTH, RequestFields::isFalse, "this server does not return log probabilities", "false"),
            new Unsupported("top_logprobs", BOTH, number(0), "this server does not return log probabilities", "0"),
            new Unsupported("prompt_logprobs", BOTH, never(), "this server does not return log probabilities", null),
            new Unsupported("echo", BOTH, RequestFields::isFalse, "this server does not echo the prompt in the output", "false"),
            new Unsupported("suffix", COMPLETIONS, node -> node.isString() && node.stringValue().isEmpty(),
                    "this server does not insert text between a prompt and a suffix", "\"\""),
            new Unsupported("logit_bias", BOTH, node -> node.isObject() && node.isEmpty(),
                    "this server does not bias token probabilities", "{}"),
            new Unsupported("frequency_penalty", BOTH, number(0), "this server does not apply frequency penalties", "0"),
            new Unsupported("presence_penalty", BOTH, number(0), "this server does not apply presence penalties", "0"),
            new Unsupported("repetition_penalty", BOTH, number(1), "this server does not apply repetition penalties", "1"),
            new Unsupported("min_p", BOTH, number(0), "this server does not sample with min_p", "0"),
            new Unsupported("min_tokens", BOTH, number(0), "this server does not force a minimum output length", "0"),
            new Unsupported("use_beam_search", BOTH, RequestFields::isFalse, "this server does not run beam search", "false"),
            new Unsupported("include_stop_str_in_output", BOTH, RequestFields::isFalse,
                    "this server always cuts the output before a stop string", "false"),
            new Unsupported("truncate_prompt_tokens", BOTH, never(), "this server does not truncate prompts", null),
            new Unsupported("tools", CHAT, RequestFields::isEmptyArray, "this server does not call tools", "[]"),
            new Unsupported("functions", CHAT, RequestFields::isEmptyArray, "this server does not call functions", "[]"),
            new Unsupported("tool_choice", CHAT, text("none"), "this server does not call tools", "\"none\""),
            new Unsupported("function_call", CHAT, text("none"), "this server does not call functions", "\"none\""),
            new Unsupported("response_format", BOTH, node -> node.isObject() && text("text").test(node.get("type")),
                    "this server generates free text only, with no JSON mode or JSON schema", "{\"type\": \"text\"}"),
            new Unsupported("guided_json", BOTH, never(), "this server does not constrain output to a grammar or schema", null),
            new Unsupported("guided_regex", BOTH, never(), "this server does not constrain output to a grammar or schema", null),
            new Unsupported("guided_choice", BOTH, never(), "this server does not constrain output to a grammar or schema", null),
            new Unsupported("guided_grammar", BOTH, never(), "this server does not constrain output to a grammar or schema", null),
            new Unsupported("structured_outputs", BOTH, never(), "this server does not constrain output to a grammar or schema", null),
            new Unsupported("audio", CHAT, never(), "this server generates text only", null),
            new Unsupported("modalities", CHAT, node -> node.isArray() && node.size() == 1 && text("text").test(node.get(0)),
                    "this server generates text only", "[\"text\"]"),
            new Unsupported("reasoning_effort", CHAT, never(), "this model has no reasoning mode", null),
            new Unsupported("verbosity", CHAT, never(), "this server does not adjust the output's verbosity", null),
            new Unsupported("web_search_options", CHAT, never(), "this server does not search the web", null),
            new Unsupported("chat_template", CHAT, never(), "this server renders chats with the model's own template only", null),
            new Unsupported("chat_template_kwargs", CHAT, node -> node.isObject() && node.isEmpty(),
                    "this server renders chats with the model's own template only", "{}"),
            new Unsupported("add_generation_prompt", CHAT, RequestFields::isTrue,
                    "this server always renders the prompt for a new assistant message", "true"),
            new Unsupported("continue_final_message", CHAT, RequestFields::isFalse,
                    "this server always renders the prompt for a new assistant message", "false"));

    private RequestFields() {
    }

    /** Throws {@link OpenAiException} for the first field whose unsupported feature the request turns on. */
    static void rejectUnsupported(Endpoint endpoint, JsonFields fields) {
        for (Unsupported field : UNSUPPORTED) {
            JsonNode value = fields.get(field.name());
            if (value == null || !field.endpoints().contains(endpoint) || field.off().test(value)) {
                continue;
            }
            throw OpenAiException.invalid(field.name(), "unsupported_parameter", "Unsupported parameter '"
                    + field.name() + "': " + field.lacking() + "; remove it"
                    + (field.offValue() != null ? " or set it to " + field.offValue() : "") + ".");
        }
    }

    /** Returns the request's top-level fields that this server ignores, in request order. */
    static List<String> ignored(Endpoint endpoint, ObjectNode body) {
        List<String> ignored = new ArrayList<>();
        for (String name : body.propertyNames()) {
            if (!isActedOn(endpoint, name)) {
                ignored.add(name);
            }
        }
        return ignored;
    }

    private static boolean isActedOn(Endpoint endpoint, String name) {
        if (SHARED.contains(name) || (endpoint == Endpoint.CHAT ? CHAT_ONLY : COMPLETIONS_ONLY).contains(name)) {
            return true;
        }
        return UNSUPPORTED.stream().anyMatch(field -> field.name().equals(name) && field.endpoints().contains(endpoint));
    }

    private static boolean isFalse(JsonNode node) {
        return node.isBoolean() && !node.booleanValue();
    }

    private static boolean isTrue(JsonNode node) {
        return node.isBoolean() && node.booleanValue();
    }

    private static boolean isEmptyArray(JsonNode node) {
        return node.isArray() && node.isEmpty();
    }

    private static Predicate<JsonNode> number(double value) {
        return node -> node != null && node.isNumber() && node.doubleValue() == value;
    }

    private static Predicate<JsonNode> text(String value) {
        return node -> node != null && node.isString() && node.stringValue().equals(value);
    }

    private static Predicate<JsonNode> never() {
        return node -> false;
    }
}
