package io.sparsemesh.router.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationHandle;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.GenerationEvents;
import io.sparsemesh.router.GenerationService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The OpenAI-compatible API of the real router app serving stories260K over loopback, driven by
 * the official OpenAI Java SDK and by raw HTTP for the error cases and the stream's wire format.
 * The context is raised to 2048 tokens so a streamed generation runs long enough to be cancelled.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OpenAiApiTest {

    static final String MODEL = "stories260K";
    static final String PROMPT = "Once upon a time";
    /** stories260K's greedy continuation of PROMPT: its first 16 tokens. */
    static final String GREEDY_16 = ", there was a little girl named Lily. She loved to play";
    /** The token ids of PROMPT, with BOS. */
    static final List<Integer> PROMPT_IDS = List.of(1, 403, 407, 261, 378);
    /** The token ids of GREEDY_16. */
    static final List<Integer> GREEDY_16_IDS = List.of(432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337);
    static final int CONTEXT = 2048;
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final int GRPC_PORT = freePort();

    static HttpClient http;
    static OpenAIClient sdk;

    @LocalServerPort
    int port;

    @Autowired
    GenerationService generations;
    @Autowired
    Scheduler scheduler;
    @Autowired
    AttentionBackend attention;
    @Autowired
    OpenAiMetrics metrics;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.grpc.server.port", () -> GRPC_PORT);
        registry.add("sparsemesh.router.model", () -> repositoryRoot().resolve("models/stories260K/stories260K.gguf").toString());
        registry.add("sparsemesh.router.scheduler.context-length", () -> CONTEXT);
        registry.add("sparsemesh.router.openai.keep-alive-interval", () -> "100ms");
    }

    @BeforeAll
    static void clients() {
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void close() {
        if (sdk != null) {
            sdk.close();
        }
        http.close();
    }

    // --- the official SDK ---------------------------------------------------------------------

    @Test
    void sdkChatCompletionIsGreedyReference() {
        ChatCompletion completion = sdk().chat().completions().create(ChatCompletionCreateParams.builder()
                .model(MODEL).addUserMessage(PROMPT).maxCompletionTokens(16).temperature(0.0).build());

        assertEquals(1, completion.choices().size());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertEquals(GREEDY_16, choice.message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertEquals(0, choice.index());
        assertEquals(MODEL, completion.model());
        assertTrue(completion.id().startsWith("chatcmpl-"), completion.id());
        var usage = completion.usage().orElseThrow();
        assertEquals(5, usage.promptTokens());
        assertEquals(16, usage.completionTokens());
        assertEquals(21, usage.totalTokens());
    }

    @Test
    void sdkStreamingChatEndsWithUsage() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model(MODEL).addUserMessage(PROMPT).maxTokens(16).temperature(0.0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = sdk().chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunks::add);
        }

        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk.Choice.FinishReason> reasons = new ArrayList<>();
        for (ChatCompletionChunk chunk : chunks) {
            for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                choice.delta().content().ifPresent(text::append);
                choice.finishReason().ifPresent(reasons::add);
            }
        }
        assertEquals(GREEDY_16, text.toString());
        assertEquals(List.of(ChatCompletionChunk.Choice.FinishReason.LENGTH), reasons);
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT,
                chunks.getFirst().choices().getFirst().delta().role().orElseThrow());
        ChatCompletionChunk last = chunks.getLast();
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        assertEquals(5, last.usage().orElseThrow().promptTokens());
        assertEquals(16, last.usage().orElseThrow().completionTokens());
        assertEquals(Set.of(chunks.getFirst().id()), chunks.stream().map(ChatCompletionChunk::id)
                .collect(Collectors.toSet()), "one id for every chunk");
    }

    @Test
    void sdkCompletionIsGreedyReference() {
        Completion completion = sdk().completions().create(CompletionCreateParams.builder()
                .model(MODEL).prompt(PROMPT).maxTokens(16).temperature(0.0).build());

        CompletionChoice choice = completion.choices().getFirst();
        assertEquals(GREEDY_16, choice.text());
        assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
        assertEquals(21, completion.usage().orElseThrow().totalTokens());
        assertTrue(completion.id().startsWith("cmpl-"), completion.id());
    }

    @Test
    void sdkStreamingCompletionIsGreedyReference() {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<Completion> stream = sdk().completions().createStreaming(CompletionCreateParams.builder()
                .model(MODEL).prompt(PROMPT).maxTokens(16).temperature(0.0).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> text.append(choice.text())));
        }
        assertEquals(GREEDY_16, text.toString());
    }

    @Test
    void seededChoicesUseSeedPlusIndex() {
        Completion two = complete(2, 42);
        assertEquals(2, two.choices().size());
        assertEquals(0, two.choices().get(0).index());
        assertEquals(1, two.choices().get(1).index());
        assertEquals(32, two.usage().orElseThrow().completionTokens());
        assertEquals(5, two.usage().orElseThrow().promptTokens());

        assertEquals(complete(1, 42).choices().getFirst().text(), two.choices().get(0).text());
        assertEquals(complete(1, 43).choices().getFirst().text(), two.choices().get(1).text());
        assertNotEquals(two.choices().get(0).text(), two.choices().get(1).text());
    }

    private Completion complete(int n, long seed) {
        return sdk().completions().create(CompletionCreateParams.builder()
                .model(MODEL).prompt(PROMPT).maxTokens(16).temperature(1.0).n(n).seed(seed).build());
    }

    @Test
    void stopStringEndsChoice() {
        Completion completion = sdk().completions().create(CompletionCreateParams.builder()
                .model(MODEL).prompt(PROMPT).maxTokens(40).temperature(0.0).stop(" named").build());

        CompletionChoice choice = completion.choices().getFirst();
        assertEquals(", there was a little girl", choice.text());
        assertEquals(CompletionChoice.FinishReason.STOP, choice.finishReason());
    }

    @Test
    void sdkListsAndRetrievesModel() {
        List<Model> models = sdk().models().list().data();
        assertEquals(List.of(MODEL), models.stream().map(Model::id).toList());
        assertEquals("sparsemesh", models.getFirst().ownedBy());
        assertEquals(MODEL, sdk().models().retrieve(MODEL).id());
        assertThrows(NotFoundException.class, () -> sdk().models().retrieve("gpt-4o"));
    }

    @Test
    void sdkSurfacesErrorFields() {
        NotFoundException missing = assertThrows(NotFoundException.class, () -> sdk().chat().completions().create(
                ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage(PROMPT).build()));
        assertEquals("model_not_found", missing.code().orElseThrow());
        assertEquals("model", missing.param().orElseThrow());

        BadRequestException tooHot = assertThrows(BadRequestException.class, () -> sdk().chat().completions().create(
                ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(PROMPT).temperature(2.5).build()));
        assertEquals("temperature", tooHot.param().orElseThrow());
        assertEquals("invalid_request_error", tooHot.type().orElseThrow());
    }

    @Test
    void sdkRawResponseCarriesRequestId() {
        HttpResponseFor<ChatCompletion> response = sdk().chat().completions().withRawResponse().create(
                ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(PROMPT).maxCompletionTokens(2)
                        .putAdditionalHeader("X-Request-Id", "sdk-req-7").build());
        assertEquals(List.of("sdk-req-7"), response.headers().values("X-Request-Id"));
        assertEquals("chatcmpl-sdk-req-7", response.parse().id());
    }

    // --- raw HTTP -----------------------------------------------------------------------------

    @Test
    void requestIdIsEchoedOrGenerated() throws Exception {
        HttpResponse<String> echoed = send(HttpRequest.newBuilder(uri("/v1/completions")).header("X-Request-Id", "req-abc")
                .POST(HttpRequest.BodyPublishers.ofString(completionBody("\"max_tokens\": 2"))).build());
        assertEquals(200, echoed.statusCode(), echoed.body());
        assertEquals("req-abc", echoed.headers().firstValue("X-Request-Id").orElseThrow());
        assertEquals("cmpl-req-abc", JSON.readTree(echoed.body()).get("id").stringValue());

        HttpResponse<String> generated = post("/v1/completions", completionBody("\"max_tokens\": 2"));
        String id = generated.headers().firstValue("X-Request-Id").orElseThrow();
        assertEquals(36, id.length(), "a UUID: " + id);
        assertEquals("cmpl-" + id, JSON.readTree(generated.body()).get("id").stringValue());

        HttpResponse<String> error = send(HttpRequest.newBuilder(uri("/v1/nothing")).header("X-Request-Id", "req-err")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        assertEquals("req-err", error.headers().firstValue("X-Request-Id").orElseThrow());
    }

    @Test
    void streamWireFormatEndsWithDone() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": ["
                + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Once upon\"},"
                + " {\"type\": \"text\", \"text\": \"a time\"}]}], \"max_tokens\": 3, \"temperature\": 0,"
                + " \"stream\": true, \"stream_options\": {\"include_usage\": true}}");

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        List<String> events = response.body().lines().filter(line -> !line.isEmpty()).toList();
        assertEquals("data: [DONE]", events.getLast());
        for (String event : events) {
            assertTrue(event.startsWith("data: ") || event.startsWith(":"), event);
        }
        JsonNode first = JSON.readTree(events.getFirst().substring(6));
        assertEquals("chat.completion.chunk", first.get("object").stringValue());
        assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").stringValue());
        assertTrue(first.get("usage").isNull(), "chunks carry usage: null when include_usage is set");
        JsonNode usage = JSON.readTree(events.get(events.size() - 2).substring(6)).get("usage");
        assertEquals(3, usage.get("completion_tokens").intValue());
    }

    @Test
    void chatPartsAreJoinedByNewline() throws Exception {
        // "Once upon\na time" is a different prompt from "Once upon a time": 6 tokens instead of 5
        HttpResponse<String> response = post("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": ["
                + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Once upon\"},"
                + " {\"type\": \"text\", \"text\": \"a time\"}]}], \"max_tokens\": 1}");
        assertEquals(200, response.statusCode(), response.body());
        int joined = JSON.readTree(response.body()).get("usage").get("prompt_tokens").intValue();

        HttpResponse<String> plain = post("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": \"Once upon\\na time\","
                + " \"max_tokens\": 1}");
        assertEquals(joined, JSON.readTree(plain.body()).get("usage").get("prompt_tokens").intValue());
    }

    @Test
    void promptAcceptsTokenIdsAndOneStringArray() throws Exception {
        for (String prompt : List.of("[1, 403, 407, 261, 378]", "[[1, 403, 407, 261, 378]]", "[\"Once upon a time\"]")) {
            HttpResponse<String> response = post("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": "
                    + prompt + ", \"max_tokens\": 16, \"temperature\": 0, \"user\": \"user-1\"}");
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(GREEDY_16, JSON.readTree(response.body()).get("choices").get(0).get("text").stringValue(), prompt);
        }
    }

    /** An error case: the request and the status, {@code param}, {@code code} and message part expected. */
    record ErrorCase(String name, String path, byte[] body, int status, String param, String code, String message) {
        ErrorCase(String name, String path, String body, int status, String param, String code, String message) {
            this(name, path, body.getBytes(StandardCharsets.UTF_8), status, param, code, message);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<ErrorCase> errorCases() {
        String chat = "/v1/chat/completions";
        String completions = "/v1/completions";
        String cafe = "{\"model\": \"stories260K\", \"prompt\": \"caf\u00e9\"}";
        byte[] badUtf8 = cafe.getBytes(StandardCharsets.UTF_8);
        int badOffset = cafe.indexOf('\u00e9');
        badUtf8[badOffset] = (byte) 0xFF;
        String twoThousandIds = IntStream.range(0, 2100).mapToObj(i -> "1").collect(Collectors.joining(", ", "[", "]"));
        return Stream.of(
                new ErrorCase("malformed JSON", chat, "{\"model\": \"stories260K\", \"messages\": [}", 400, null,
                        "invalid_json", "not valid JSON"),
                new ErrorCase("JSON location", chat, "{\"model\": \"stories260K\",\n \"messages\": [}", 400, null,
                        "invalid_json", "line 2, column"),
                new ErrorCase("empty body", chat, "", 400, null, "invalid_json", "body is empty"),
                new ErrorCase("array body", chat, "[1]", 400, null, "invalid_json",
                        "must be a JSON object, but it is an array"),
                new ErrorCase("unterminated object", chat, "{\"model\": \"stories260K\"", 400, null, "invalid_json",
                        "not valid JSON"),
                new ErrorCase("invalid UTF-8", completions, badUtf8, 400, null, "invalid_encoding",
                        "not valid UTF-8: byte 0xFF at offset " + badOffset),
                new ErrorCase("missing model", chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400,
                        "model", "missing_required_parameter", "Missing required parameter 'model'; send"),
                new ErrorCase("missing messages", chat, "{\"model\": \"stories260K\"}", 400, "messages",
                        "missing_required_parameter", "Missing required parameter 'messages'; send"),
                new ErrorCase("missing prompt", completions, "{\"model\": \"stories260K\"}", 400, "prompt",
                        "missing_required_parameter", "Missing required parameter 'prompt'; send"),
                new ErrorCase("max_tokens string", chat, chatBody("\"max_tokens\": \"ten\""), 400, "max_tokens",
                        "invalid_type", "expected an integer of at least 1, but got a string (\"ten\")"),
                new ErrorCase("stream string", chat, chatBody("\"stream\": \"yes\""), 400, "stream", "invalid_type",
                        "expected a boolean"),
                new ErrorCase("messages object", chat, "{\"model\": \"stories260K\", \"messages\": {}}", 400, "messages",
                        "invalid_type", "expected an array of messages"),
                new ErrorCase("content number", chat, "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": 7}]}", 400, "messages[0].content", "invalid_type", "a string or an array of text parts"),
                new ErrorCase("image part", chat, "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}", 400,
                        "messages[0].content[0].type", "invalid_value", "'image_url' is not supported"),
                new ErrorCase("tool role", chat, "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"tool\","
                        + " \"content\": \"x\"}]}", 400, "messages[0].role", "invalid_value", "send system, user or assistant"),
                new ErrorCase("unknown model", chat, "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"hi\"}]}", 404, "model", "model_not_found", "'gpt-4o' does not exist"),
                new ErrorCase("chat context", chat, "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"" + "Once upon a time ".repeat(600) + "\"}]}", 400, "messages",
                        "context_length_exceeded", "context holds 2048 tokens"),
                new ErrorCase("prompt context", completions, "{\"model\": \"stories260K\", \"prompt\": "
                        + twoThousandIds + "}", 400, "prompt",
                        "context_length_exceeded", "the prompt has 2100 tokens"),
                new ErrorCase("token id outside vocabulary", completions, "{\"model\": \"stories260K\", \"prompt\": [1, 999999]}",
                        400, "prompt", "invalid_value", "999999 is outside the vocabulary"),
                new ErrorCase("stop token id above vocabulary", completions,
                        completionBody("\"stop_token_ids\": [2, 999999]"), 400, "stop_token_ids", "invalid_value",
                        "stop token id 999999 is outside the vocabulary [0, 512)"),
                new ErrorCase("stop token id negative", chat, chatBody("\"stop_token_ids\": [-1]"), 400,
                        "stop_token_ids", "invalid_value", "stop token id -1 is outside the vocabulary"),
                new ErrorCase("two prompts", completions, "{\"model\": \"stories260K\", \"prompt\": [\"a\", \"b\"]}",
                        400, "prompt", "invalid_value", "one prompt per request"),
                new ErrorCase("max_tokens zero", chat, chatBody("\"max_tokens\": 0"), 400, "max_tokens",
                        "integer_below_min_value", "0 is below the minimum of 1"),
                new ErrorCase("max_tokens negative", completions, completionBody("\"max_tokens\": -5"), 400, "max_tokens",
                        "integer_below_min_value", "send an integer of at least 1"),
                new ErrorCase("max_tokens beyond int", completions, completionBody("\"max_tokens\": 99999999999"), 400,
                        "max_tokens", "integer_above_max_value", "does not fit in a 32-bit integer"),
                new ErrorCase("max_tokens above context", completions, completionBody("\"max_tokens\": 5000"), 400,
                        "max_tokens", "context_length_exceeded", "This model's maximum context length is 2048 tokens,"
                        + " but the request needs 5005 tokens: 5 in the prompt plus 5000 for the completion"
                        + " ('max_tokens'). Set 'max_tokens' to at most 2043, or shorten the prompt."),
                new ErrorCase("max_tokens above room", completions, completionBody("\"max_tokens\": 2044"), 400,
                        "max_tokens", "context_length_exceeded", "needs 2049 tokens"),
                new ErrorCase("max_completion_tokens above room", chat, chatBody("\"max_completion_tokens\": 2044"), 400,
                        "max_completion_tokens", "context_length_exceeded", "5 in the messages plus 2044 for the"
                        + " completion ('max_completion_tokens'). Set 'max_completion_tokens' to at most 2043, or shorten the messages."),
                new ErrorCase("max_tokens above room of ids", completions, "{\"model\": \"stories260K\", \"prompt\": "
                        + IntStream.range(0, 2000).mapToObj(i -> "1").collect(Collectors.joining(", ", "[", "]"))
                        + ", \"max_tokens\": 100}", 400, "max_tokens", "context_length_exceeded",
                        "2000 in the prompt plus 100 for the completion ('max_tokens'). Set 'max_tokens' to at most 48"),
                new ErrorCase("max_completion_tokens zero", chat, chatBody("\"max_completion_tokens\": 0"), 400,
                        "max_completion_tokens", "integer_below_min_value", "below the minimum of 1"),
                new ErrorCase("stop_token_ids not array", completions, completionBody("\"stop_token_ids\": 2"), 400,
                        "stop_token_ids", "invalid_type", "expected an array of token ids"),
                new ErrorCase("stop_token_ids decimal", completions, completionBody("\"stop_token_ids\": [2.5]"), 400,
                        "stop_token_ids[0]", "invalid_type", "expected a token id"),
                new ErrorCase("return_token_ids string", chat, chatBody("\"return_token_ids\": \"yes\""), 400,
                        "return_token_ids", "invalid_type", "expected a boolean"),
                new ErrorCase("n zero", chat, chatBody("\"n\": 0"), 400, "n", "integer_below_min_value",
                        "send an integer from 1 to 128"),
                new ErrorCase("n negative", completions, completionBody("\"n\": -1"), 400, "n", "integer_below_min_value",
                        "accepted range [1, 128]"),
                new ErrorCase("temperature above", chat, chatBody("\"temperature\": 2.5"), 400, "temperature",
                        "decimal_above_max_value", "accepted range [0, 2]; send a number from 0 to 2"),
                new ErrorCase("temperature below", completions, completionBody("\"temperature\": -0.1"), 400,
                        "temperature", "decimal_below_min_value", "accepted range [0, 2]"),
                new ErrorCase("top_p zero", chat, chatBody("\"top_p\": 0"), 400, "top_p", "decimal_below_min_value",
                        "accepted range (0, 1]; send a number greater than 0 and at most 1"),
                new ErrorCase("top_p above", completions, completionBody("\"top_p\": 1.5"), 400, "top_p",
                        "decimal_above_max_value", "accepted range (0, 1]"),
                new ErrorCase("five stops", chat, chatBody("\"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]"), 400, "stop",
                        "array_above_max_length", "send at most 4"),
                new ErrorCase("empty stop", completions, completionBody("\"stop\": \"\""), 400, "stop", "invalid_value",
                        "send a non-empty string"),
                new ErrorCase("seed decimal", chat, chatBody("\"seed\": 1.5"), 400, "seed", "invalid_type",
                        "expected a 64-bit integer"),
                new ErrorCase("include_usage string", chat, chatBody("\"stream\": true, \"stream_options\":"
                        + " {\"include_usage\": \"yes\"}"), 400, "stream_options.include_usage", "invalid_type",
                        "expected a boolean"),
                new ErrorCase("chat logprobs", chat, chatBody("\"logprobs\": true"), 400, "logprobs",
                        "unsupported_parameter", "Unsupported parameter 'logprobs': this server does not return log"
                        + " probabilities; remove it or set it to false."),
                new ErrorCase("top_logprobs", chat, chatBody("\"logprobs\": false, \"top_logprobs\": 3"), 400,
                        "top_logprobs", "unsupported_parameter", "remove it or set it to 0"),
                new ErrorCase("completion logprobs", completions, completionBody("\"logprobs\": 0"), 400, "logprobs",
                        "unsupported_parameter", "does not return log probabilities"),
                new ErrorCase("echo", completions, completionBody("\"echo\": true"), 400, "echo",
                        "unsupported_parameter", "does not echo the prompt"),
                new ErrorCase("suffix", completions, completionBody("\"suffix\": \" The end.\""), 400, "suffix",
                        "unsupported_parameter", "remove it or set it to \"\""),
                new ErrorCase("best_of above n", completions, completionBody("\"best_of\": 3"), 400, "best_of",
                        "unsupported_parameter", "3 with n 1 asks to keep the best of several completions"),
                new ErrorCase("tools", chat, chatBody("\"tools\": [{\"type\": \"function\", \"function\":"
                        + " {\"name\": \"f\"}}]"), 400, "tools", "unsupported_parameter", "does not call tools"),
                new ErrorCase("tool_choice", chat, chatBody("\"tool_choice\": \"auto\""), 400, "tool_choice",
                        "unsupported_parameter", "remove it or set it to \"none\""),
                new ErrorCase("functions", chat, chatBody("\"functions\": [{\"name\": \"f\"}]"), 400, "functions",
                        "unsupported_parameter", "does not call functions"),
                new ErrorCase("json mode", chat, chatBody("\"response_format\": {\"type\": \"json_object\"}"), 400,
                        "response_format", "unsupported_parameter", "no JSON mode or JSON schema; remove it or set it"
                        + " to {\"type\": \"text\"}"),
                new ErrorCase("logit_bias", completions, completionBody("\"logit_bias\": {\"50\": -100}"), 400,
                        "logit_bias", "unsupported_parameter", "does not bias token probabilities"),
                new ErrorCase("frequency_penalty", chat, chatBody("\"frequency_penalty\": 0.5"), 400,
                        "frequency_penalty", "unsupported_parameter", "remove it or set it to 0"),
                new ErrorCase("presence_penalty", completions, completionBody("\"presence_penalty\": -1"), 400,
                        "presence_penalty", "unsupported_parameter", "does not apply presence penalties"),
                new ErrorCase("audio", chat, chatBody("\"audio\": {\"voice\": \"alloy\", \"format\": \"wav\"}"),
                        400, "audio", "unsupported_parameter", "generates text only; remove it."),
                new ErrorCase("guided_json", completions, completionBody("\"guided_json\": {}"), 400, "guided_json",
                        "unsupported_parameter", "does not constrain output"),
                new ErrorCase("unknown path", "/v1/embeddings", "{}", 404, null, "unknown_url",
                        "Unknown URL: POST /v1/embeddings; this server serves POST /v1/chat/completions"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void errorHasOpenAiShape(ErrorCase error) throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri(error.path()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(error.body())).build());

        assertEquals(error.status(), response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("X-Request-Id").isPresent(), "X-Request-Id header");
        JsonNode body = JSON.readTree(response.body()).get("error");
        assertNotNull(body, response.body());
        assertEquals("invalid_request_error", body.get("type").stringValue());
        assertEquals(error.param(), body.get("param").isNull() ? null : body.get("param").stringValue());
        assertEquals(error.code(), body.get("code").stringValue());
        String message = body.get("message").stringValue();
        assertTrue(message.contains(error.message()), message);
        assertFalse(message.contains("Source:"), "names parser internals: " + message);
        if (error.param() != null) {
            assertTrue(message.contains("'" + error.param() + "'"), "names the field: " + message);
        }
    }

    @Test
    void wrongMethodIsNotAllowed() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/v1/chat/completions")).GET().build());

        assertEquals(405, response.statusCode());
        assertEquals("POST", response.headers().firstValue("Allow").orElseThrow());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").stringValue());
        assertEquals("method_not_allowed", error.get("code").stringValue());
        assertTrue(error.get("param").isNull());
        assertEquals("Method GET is not allowed on /v1/chat/completions; use POST.", error.get("message").stringValue());

        HttpResponse<String> models = post("/v1/models", "{}");
        assertEquals(405, models.statusCode());
        assertEquals("GET", models.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", chatBody(
                "\"max_tokens\": 2, \"some_future_field\": {\"x\": [1]}, \"user\": null, \"store\": true,"
                        + " \"metadata\": {\"team\": \"a\"}, \"service_tier\": \"auto\", \"parallel_tool_calls\": false,"
                        + " \"prediction\": {\"type\": \"content\", \"content\": \"x\"}, \"prompt_cache_key\": \"k\""));
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("chat.completion", JSON.readTree(response.body()).get("object").stringValue());
    }

    /** Unsupported features are accepted when the value leaves them off, as SDKs and frameworks send them. */
    @Test
    void unsupportedFieldsAtOffValuesAreAccepted() throws Exception {
        HttpResponse<String> chat = post("/v1/chat/completions", chatBody("\"max_tokens\": 2, \"logprobs\": false,"
                + " \"top_logprobs\": 0, \"frequency_penalty\": 0, \"presence_penalty\": 0.0, \"logit_bias\": {},"
                + " \"tools\": [], \"tool_choice\": \"none\", \"response_format\": {\"type\": \"text\"},"
                + " \"modalities\": [\"text\"], \"n\": 1"));
        assertEquals(200, chat.statusCode(), chat.body());

        HttpResponse<String> completion = post("/v1/completions", completionBody("\"max_tokens\": 2, \"echo\": false,"
                + " \"suffix\": \"\", \"best_of\": 2, \"n\": 2, \"logprobs\": null"));
        assertEquals(200, completion.statusCode(), completion.body());
        assertEquals(2, JSON.readTree(completion.body()).get("choices").size());
    }

    @Test
    void sdkRejectsLogprobsWithParam() {
        BadRequestException error = assertThrows(BadRequestException.class, () -> sdk().chat().completions().create(
                ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(PROMPT).logprobs(true).build()));
        assertEquals("logprobs", error.param().orElseThrow());
        assertEquals("unsupported_parameter", error.code().orElseThrow());
        assertTrue(error.getMessage().contains("does not return log probabilities"), error.getMessage());
    }

    // --- max_tokens and the context ------------------------------------------------------------

    @Test
    void maxTokensFillingContextIsAccepted() throws Exception {
        // 5 prompt tokens leave room for 2043; the stop string ends the generation early
        HttpResponse<String> response = post("/v1/completions", completionBody(
                "\"max_tokens\": 2043, \"temperature\": 0, \"stop\": \" named\""));
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("stop", JSON.readTree(response.body()).get("choices").get(0).get("finish_reason").stringValue());
    }

    @Test
    void absentMaxTokensFillsRemainingRoom() throws Exception {
        String prompt = IntStream.range(0, 2040).mapToObj(i -> "1").collect(Collectors.joining(", ", "[", "]"));
        HttpResponse<String> response = post("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": " + prompt
                + ", \"temperature\": 0, \"ignore_eos\": true}");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = JSON.readTree(response.body());
        assertEquals(2040, body.get("usage").get("prompt_tokens").intValue());
        assertEquals(8, body.get("usage").get("completion_tokens").intValue(), "all of the 8 tokens of room");
        assertEquals("length", body.get("choices").get(0).get("finish_reason").stringValue());
    }

    // --- token ids -----------------------------------------------------------------------------

    @Test
    void returnTokenIdsOnCompletion() throws Exception {
        JsonNode body = JSON.readTree(post("/v1/completions", completionBody(
                "\"max_tokens\": 16, \"temperature\": 0, \"return_token_ids\": true")).body());

        JsonNode choice = body.get("choices").get(0);
        assertEquals(GREEDY_16, choice.get("text").stringValue());
        assertEquals(GREEDY_16_IDS, ids(choice.get("token_ids")));
        assertEquals(PROMPT_IDS, ids(choice.get("prompt_token_ids")));
        assertNull(body.get("prompt_token_ids"), "completions keep the prompt ids in each choice");

        JsonNode plain = JSON.readTree(post("/v1/completions", completionBody("\"max_tokens\": 2")).body());
        assertNull(plain.get("choices").get(0).get("token_ids"), "no ids unless asked for");
    }

    @Test
    void returnTokenIdsOnChat() throws Exception {
        JsonNode body = JSON.readTree(post("/v1/chat/completions", chatBody(
                "\"max_tokens\": 16, \"temperature\": 0, \"return_token_ids\": true")).body());

        assertEquals(PROMPT_IDS, ids(body.get("prompt_token_ids")));
        JsonNode choice = body.get("choices").get(0);
        assertEquals(GREEDY_16, choice.get("message").get("content").stringValue());
        assertEquals(GREEDY_16_IDS, ids(choice.get("token_ids")));
    }

    @Test
    void streamedTokenIdsAddUp() throws Exception {
        HttpResponse<String> response = post("/v1/completions", completionBody(
                "\"max_tokens\": 16, \"temperature\": 0, \"return_token_ids\": true, \"stream\": true"));

        List<JsonNode> chunks = dataChunks(response.body());
        assertEquals(PROMPT_IDS, ids(chunks.getFirst().get("choices").get(0).get("prompt_token_ids")),
                "the first chunk carries the prompt ids");
        List<Integer> streamed = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks) {
            JsonNode choice = chunk.get("choices").get(0);
            text.append(choice.get("text").stringValue());
            if (choice.has("token_ids")) {
                streamed.addAll(ids(choice.get("token_ids")));
            }
        }
        assertEquals(GREEDY_16_IDS, streamed);
        assertEquals(GREEDY_16, text.toString());
    }

    @Test
    void stopTokenIdEndsChoice() throws Exception {
        HttpResponse<String> response = post("/v1/completions", completionBody("\"max_tokens\": 16, \"temperature\": 0,"
                + " \"return_token_ids\": true, \"stop_token_ids\": [" + GREEDY_16_IDS.get(3) + "]"));

        JsonNode choice = JSON.readTree(response.body()).get("choices").get(0);
        assertEquals("stop", choice.get("finish_reason").stringValue());
        assertEquals(GREEDY_16_IDS.subList(0, 3), ids(choice.get("token_ids")), "the stop token is not part of the output");
    }

    static List<Integer> ids(JsonNode array) {
        assertNotNull(array, "an array of token ids");
        List<Integer> ids = new ArrayList<>();
        array.forEach(id -> ids.add(id.intValue()));
        return ids;
    }

    /** Parses the {@code data: {...}} events of a server-sent event stream. */
    static List<JsonNode> dataChunks(String stream) {
        return stream.lines().filter(line -> line.startsWith("data: {"))
                .map(line -> JSON.readTree(line.substring(6))).toList();
    }

    // --- cancellation -------------------------------------------------------------------------

    /**
     * Streams a long generation over a raw socket, reads one chunk and pauses the scheduler with a
     * second generation whose listener blocks, so the streamed one is certainly still running and
     * holding caches. Then the socket closes: the router's next write (a keep-alive while paused)
     * fails, it cancels the generation, and once the scheduler resumes the caches are freed.
     */
    @Test
    void clientDisconnectCancelsGeneration() throws Exception {
        double disconnectsBefore = metrics.clientDisconnects();
        double cancelledBefore = metrics.generationsCancelled();
        LocalAttention caches = (LocalAttention) attention;
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);

        GenerationHandle blocker;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            String body = completionBody("\"max_tokens\": 2000, \"temperature\": 0, \"ignore_eos\": true, \"stream\": true");
            byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bodyBytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bodyBytes);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 200 ", in.readLine().substring(0, 13));
            String line;
            do {
                line = in.readLine();
                assertNotNull(line, "the stream ended before its first chunk");
            } while (!line.startsWith("data: {"));

            blocker = generations.start(new GenerationCommand("blocker", null, null, new int[] {1}, null,
                    SamplingParams.greedy(1)), new BlockingEvents(paused, resume));
            assertTrue(paused.await(60, TimeUnit.SECONDS), "the blocking generation reached its first token");
            assertEquals(2, caches.cachedSequences(), "the streamed generation still holds its caches");
        }

        awaitUntil("the router notices the closed connection", () -> metrics.clientDisconnects() > disconnectsBefore);
        resume.countDown();
        awaitUntil("the scheduler empties", () -> scheduler.activeSequences() == 0 && caches.cachedSequences() == 0);
        assertEquals(cancelledBefore + 1, metrics.generationsCancelled(), "the streamed generation ended cancelled");
        assertEquals("blocker", blocker.requestId());
    }

    /** Blocks the scheduler thread on the first token until {@code resume} opens (at most a minute). */
    private record BlockingEvents(CountDownLatch paused, CountDownLatch resume) implements GenerationEvents {
        @Override
        public void started(int[] promptIds) {
        }

        @Override
        public void token(int id, String text) {
            paused.countDown();
            try {
                resume.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void finished(FinishReason reason, GenerationStats stats, String text) {
        }

        @Override
        public void failed(Throwable error) {
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    private OpenAIClient sdk() {
        if (sdk == null) {
            sdk = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                    .maxRetries(0).build();
        }
        return sdk;
    }

    static String chatBody(String extra) {
        return "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}], "
                + extra + "}";
    }

    static String completionBody(String extra) {
        return "{\"model\": \"stories260K\", \"prompt\": \"Once upon a time\", " + extra + "}";
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Waits until {@code condition} holds, failing after a minute. */
    private static void awaitUntil(String description, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + description);
            }
            Thread.sleep(10);
        }
    }

    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no models/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }
}
