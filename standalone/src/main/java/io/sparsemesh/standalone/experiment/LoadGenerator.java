package io.sparsemesh.standalone.experiment;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.TokenIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Sends streaming generation requests to a router and records when each one started, when its
 * first token arrived and when it ended. Prompts go as token ids with {@code ignore_eos} so every
 * request generates exactly its {@code max_tokens}. Requests use the OpenAI-compatible
 * {@code POST /v1/completions} or, for a model without a tokenizer, the gRPC {@code Generation}
 * API, which streams token ids.
 */
public final class LoadGenerator implements AutoCloseable {

    /** The router API requests go to. */
    public enum Api { HTTP, GRPC }

    private static final Logger log = LoggerFactory.getLogger(LoadGenerator.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

    private final URI completions;
    private final String model;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final JsonMapper json = JsonMapper.builder().build();

    private final Api api;
    private final ManagedChannel channel;

    /** @param model the model id the router serves, sent as {@code model} */
    public LoadGenerator(Api api, int routerHttpPort, int routerGrpcPort, String model) {
        this.api = api;
        this.completions = URI.create("http://127.0.0.1:" + routerHttpPort + "/v1/completions");
        this.model = model;
        this.channel = api == Api.GRPC
                ? ManagedChannelBuilder.forAddress("127.0.0.1", routerGrpcPort).usePlaintext().build()
                : null;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    /** Runs {@code requests} with {@code clients} clients, each sending its next request when the last one ends. */
    public List<RequestSample> closedLoop(List<RequestShape> requests, int clients) throws InterruptedException {
        long origin = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        RequestSample[] samples = new RequestSample[requests.size()];
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < samples.length; i = next.getAndIncrement()) {
                        samples[i] = send(requests.get(i), origin);
                    }
                }));
            }
            awaitAll(running);
        }
        return List.of(samples);
    }

    /**
     * Sends {@code requests} at Poisson arrivals of {@code ratePerSecond} (exponential gaps, fixed
     * seed), each on its own virtual thread, whatever the number already in flight.
     */
    public List<RequestSample> openLoop(List<RequestShape> requests, double ratePerSecond) throws InterruptedException {
        Random random = new Random(42);
        long origin = System.nanoTime();
        RequestSample[] samples = new RequestSample[requests.size()];
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            long arrival = 0;
            for (int i = 0; i < samples.length; i++) {
                long wait = arrival - (System.nanoTime() - origin);
                if (wait > 0) {
                    Thread.sleep(Duration.ofNanos(wait));
                }
                int index = i;
                running.add(pool.submit(() -> {
                    samples[index] = send(requests.get(index), origin);
                }));
                arrival += (long) (-Math.log(1 - random.nextDouble()) / ratePerSecond * 1e9);
            }
            awaitAll(running);
        }
        return List.of(samples);
    }

    private static void awaitAll(List<Future<?>> running) throws InterruptedException {
        for (Future<?> future : running) {
            try {
                future.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a load generator client failed", e.getCause());
            }
        }
    }

    /** Sends one streaming request; a failure is returned as a sample with an error, not thrown. */
    RequestSample send(RequestShape shape, long origin) {
        return api == Api.GRPC ? sendGrpc(shape, origin) : sendHttp(shape, origin);
    }

    private RequestSample sendGrpc(RequestShape shape, long origin) {
        long start = System.nanoTime() - origin;
        long firstToken = -1;
        int tokens = 0;
        GenerateRequest request = GenerateRequest.newBuilder()
                .setModel(model)
                .setPromptIds(TokenIds.newBuilder().addAllIds(java.util.Arrays.stream(shape.promptIds()).boxed().toList()))
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(shape.maxTokens()).setIgnoreEos(true))
                .build();
        try {
            Iterator<GenerateResponse> events = GenerationGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(REQUEST_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .generate(request);
            while (events.hasNext()) {
                GenerateResponse event = events.next();
                if (event.hasChunk() && event.getChunk().getIdsCount() > 0) {
                    if (firstToken < 0) {
                        firstToken = System.nanoTime() - origin;
                    }
                    tokens += event.getChunk().getIdsCount();
                }
            }
        } catch (StatusRuntimeException e) {
            log.warn("Request to the router's gRPC API failed: {}", e.getStatus());
            return new RequestSample(start, firstToken, System.nanoTime() - origin, tokens, e.getStatus().toString());
        }
        return new RequestSample(start, firstToken, System.nanoTime() - origin, tokens,
                firstToken < 0 ? "no token received" : null);
    }

    private RequestSample sendHttp(RequestShape shape, long origin) {
        long start = System.nanoTime() - origin;
        long firstToken = -1;
        int tokens = 0;
        int reported = -1;
        try {
            HttpRequest request = HttpRequest.newBuilder(completions)
                    .timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body(shape)))
                    .build();
            HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
            if (response.statusCode() != 200) {
                String detail = String.join(" ", response.body().toList());
                return new RequestSample(start, -1, System.nanoTime() - origin, 0, "HTTP " + response.statusCode() + ": " + detail);
            }
            try (Stream<String> lines = response.body()) {
                Iterator<String> it = lines.iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                        continue;
                    }
                    JsonNode chunk = json.readTree(line.substring(6));
                    JsonNode choices = chunk.path("choices");
                    if (choices.isArray() && !choices.isEmpty() && !choices.get(0).path("text").asString("").isEmpty()) {
                        if (firstToken < 0) {
                            firstToken = System.nanoTime() - origin;
                        }
                        tokens++;
                    }
                    if (chunk.path("usage").isObject()) {
                        reported = chunk.path("usage").path("completion_tokens").asInt(-1);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Request to {} failed: {}", completions, e.toString());
            return new RequestSample(start, firstToken, System.nanoTime() - origin, tokens, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new RequestSample(start, firstToken, System.nanoTime() - origin, tokens, "interrupted");
        }
        long end = System.nanoTime() - origin;
        // The usage chunk counts tokens exactly; a chunk may carry more than one token's text.
        int outputTokens = reported > 0 ? reported : tokens;
        return new RequestSample(start, firstToken, end, outputTokens, firstToken < 0 ? "no token received" : null);
    }

    private String body(RequestShape shape) {
        ObjectNode body = json.createObjectNode();
        body.put("model", model);
        ArrayNode prompt = body.putArray("prompt");
        for (int id : shape.promptIds()) {
            prompt.add(id);
        }
        body.put("max_tokens", shape.maxTokens());
        body.put("temperature", 0);
        body.put("ignore_eos", true);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        return json.writeValueAsString(body);
    }
}
