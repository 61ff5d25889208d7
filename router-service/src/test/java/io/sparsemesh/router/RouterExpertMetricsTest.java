package io.sparsemesh.router;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router app serving glm5-mini-gutenberg (4 layers, layer 0 dense, 16 routed experts, 2 per
 * token): after a completion, {@code /actuator/prometheus} shows the tokens routed per MoE layer
 * and expert, and they add up to the per-expert counter.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RouterExpertMetricsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.grpc.server.port", RouterGenerationGrpcTest::freePort);
        registry.add("sparsemesh.router.model",
                () -> RouterGenerationGrpcTest.repositoryRoot().resolve("models/glm5-mini-gutenberg").toString());
    }

    @Test
    void layerExpertTokensAddUpToExpertTokens() throws Exception {
        // the prompt's rows plus 7 decode rows (the 8th token is sampled, not fed back), through
        // 3 MoE layers with 2 experts per token
        complete(port, "It was a dark night", 8);

        String text = scrape(port);
        Map<String, Double> perExpert = new LinkedHashMap<>();
        double layerTotal = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith("sparsemesh_router_layer_expert_tokens_total{")) {
                String expert = label(line, "expert");
                double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                perExpert.merge(expert, value, Double::sum);
                layerTotal += value;
                assertFalse(label(line, "layer").equals("0"), "the dense layer 0 must have no series: " + line);
            }
        }
        assertEquals(16, perExpert.size(), "one series per expert on each MoE layer");
        for (Map.Entry<String, Double> entry : perExpert.entrySet()) {
            String series = "sparsemesh_router_expert_tokens_total{expert=\"" + entry.getKey() + "\"} ";
            double expected = text.lines().filter(l -> l.startsWith(series))
                    .mapToDouble(l -> Double.parseDouble(l.substring(series.length()))).sum();
            assertEquals(expected, entry.getValue(), 0, "expert " + entry.getKey());
        }
        // every token of every step is routed once per MoE layer to 2 experts
        assertEquals(0, layerTotal % (3 * 2), "total " + layerTotal);
        assertTrue(layerTotal >= 3 * 2 * (1 + 7), "total " + layerTotal);
    }

    static void complete(int port, String prompt, int maxTokens) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"glm5-mini-gutenberg\",\"prompt\":\"" + prompt
                        + "\",\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"ignore_eos\":true}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
    }

    static String scrape(int port) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private static String label(String series, String name) {
        int start = series.indexOf(name + "=\"") + name.length() + 2;
        return series.substring(start, series.indexOf('"', start));
    }
}
