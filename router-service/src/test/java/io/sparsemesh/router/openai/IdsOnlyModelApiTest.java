package io.sparsemesh.router.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.sparsemesh.router.openai.OpenAiApiTest.GREEDY_16_IDS;
import static io.sparsemesh.router.openai.OpenAiApiTest.JSON;
import static io.sparsemesh.router.openai.OpenAiApiTest.PROMPT_IDS;
import static io.sparsemesh.router.openai.OpenAiApiTest.dataChunks;
import static io.sparsemesh.router.openai.OpenAiApiTest.ids;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible API serving a checkpoint without a tokenizer: the llama2.c file of
 * stories260K, the same weights as the GGUF that {@link OpenAiApiTest} serves, with no tokenizer
 * configured. Prompts must be token ids, and every response carries the generated ids.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class IdsOnlyModelApiTest {

    static final String MODEL = "stories260K";
    static final String IDS_BODY = "{\"model\": \"stories260K\", \"prompt\": [1, 403, 407, 261, 378], \"max_tokens\": 16,"
            + " \"temperature\": 0";

    static HttpClient http;

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.grpc.server.port", OpenAiApiTest::freePort);
        registry.add("sparsemesh.router.model", () -> OpenAiApiTest.repositoryRoot()
                .resolve("testdata/stories260K/stories260K.bin").toString());
    }

    @BeforeAll
    static void client() {
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void close() {
        http.close();
    }

    @Test
    void tokenIdPromptReturnsIds() throws Exception {
        HttpResponse<String> response = post("/v1/completions", IDS_BODY + "}");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode choice = JSON.readTree(response.body()).get("choices").get(0);
        assertEquals("", choice.get("text").stringValue(), "no tokenizer, so no text");
        assertEquals(GREEDY_16_IDS, ids(choice.get("token_ids")), "the same greedy ids as the GGUF with its tokenizer");
        assertEquals(PROMPT_IDS, ids(choice.get("prompt_token_ids")));
        assertEquals(16, JSON.readTree(response.body()).get("usage").get("completion_tokens").intValue());
    }

    @Test
    void streamCarriesIdsInEveryChunk() throws Exception {
        HttpResponse<String> response = post("/v1/completions", IDS_BODY + ", \"stream\": true}");

        assertEquals(200, response.statusCode(), response.body());
        List<Integer> streamed = new ArrayList<>();
        for (JsonNode chunk : dataChunks(response.body())) {
            JsonNode choice = chunk.get("choices").get(0);
            assertEquals("", choice.get("text").stringValue());
            streamed.addAll(ids(choice.get("token_ids")));
        }
        assertEquals(GREEDY_16_IDS, streamed);
    }

    @Test
    void stopTokenIdsReplaceStopStrings() throws Exception {
        HttpResponse<String> response = post("/v1/completions", IDS_BODY + ", \"stop_token_ids\": [" + GREEDY_16_IDS.get(5) + "]}");

        JsonNode choice = JSON.readTree(response.body()).get("choices").get(0);
        assertEquals("stop", choice.get("finish_reason").stringValue());
        assertEquals(GREEDY_16_IDS.subList(0, 5), ids(choice.get("token_ids")));
    }

    @Test
    void textPromptIsRejected() throws Exception {
        for (String prompt : List.of("\"Once upon a time\"", "[\"Once upon a time\"]")) {
            JsonNode error = error(post("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": " + prompt + "}"));

            assertEquals("prompt", error.get("param").stringValue(), prompt);
            assertEquals("model_has_no_tokenizer", error.get("code").stringValue());
            String message = error.get("message").stringValue();
            assertTrue(message.contains("the served model has no tokenizer"), message);
            assertTrue(message.contains("send it as an array of token ids"), message);
        }
    }

    @Test
    void chatIsRejected() throws Exception {
        JsonNode error = error(post("/v1/chat/completions",
                "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}"));

        assertEquals("messages", error.get("param").stringValue());
        assertEquals("model_has_no_tokenizer", error.get("code").stringValue());
        assertTrue(error.get("message").stringValue().contains("POST /v1/completions"), error.toString());
    }

    @Test
    void stopStringIsRejected() throws Exception {
        JsonNode error = error(post("/v1/completions", IDS_BODY + ", \"stop\": \"The end\"}"));

        assertEquals("stop", error.get("param").stringValue());
        assertTrue(error.get("message").stringValue().contains("'stop_token_ids'"), error.toString());
    }

    @Test
    void sdkSeesTokenIds() {
        OpenAIClient sdk = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                .maxRetries(0).build();
        try {
            Completion completion = sdk.completions().create(CompletionCreateParams.builder().model(MODEL)
                    .promptOfArrayOfTokens(PROMPT_IDS.stream().map(Long::valueOf).toList()).maxTokens(4).temperature(0.0)
                    .build());
            JsonValue tokenIds = completion.choices().getFirst()._additionalProperties().get("token_ids");
            assertEquals(JsonValue.from(GREEDY_16_IDS.subList(0, 4)), tokenIds);

            BadRequestException error = assertThrows(BadRequestException.class, () -> sdk.completions().create(
                    CompletionCreateParams.builder().model(MODEL).prompt("Once upon a time").build()));
            assertEquals("prompt", error.param().orElseThrow());
        } finally {
            sdk.close();
        }
    }

    private static JsonNode error(HttpResponse<String> response) {
        assertEquals(400, response.statusCode(), response.body());
        return JSON.readTree(response.body()).get("error");
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
