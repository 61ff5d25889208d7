package io.sparsemesh.router.openai;

import io.sparsemesh.router.BackendUnavailableException;
import io.sparsemesh.router.ContextLengthExceededException;
import io.sparsemesh.router.GenerationService;
import io.sparsemesh.router.InvalidRequestException;
import io.sparsemesh.router.openai.CompletionRequest.Endpoint;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.time.Instant;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The OpenAI-compatible HTTP API: {@code POST /v1/chat/completions}, {@code POST /v1/completions}
 * and {@code GET /v1/models}. Every response under {@code /v1/}, errors included, carries the
 * request id in {@code X-Request-Id}: the client's when it sent a usable one, otherwise a new UUID.
 *
 * <p>Chat messages become a prompt through {@link io.sparsemesh.router.TextCodec#encodeChat}: the
 * model's chat template where it has one, otherwise the message texts joined by newlines, so a
 * single user message is the same prompt as a completion of its text.
 */
@RestController
@RequestMapping("/v1")
public class OpenAiController {

    private static final Logger log = LoggerFactory.getLogger(OpenAiController.class);

    static final String REQUEST_ID_HEADER = "X-Request-Id";
    /** Client request ids used as given: visible ASCII, up to 128 characters. */
    private static final Pattern USABLE_REQUEST_ID = Pattern.compile("[\\x21-\\x7E]{1,128}");
    private static final String ROUTES = "POST /v1/chat/completions, POST /v1/completions and GET /v1/models";

    private final GenerationService generations;
    private final JsonBodyReader bodies;
    private final CompletionRequestParser parser;
    private final CompletionResponder responder;
    private final OpenAiMetrics metrics;
    private final long startedAt = Instant.now().getEpochSecond();

    public OpenAiController(GenerationService generations, OpenAiProperties properties, OpenAiMetrics metrics) {
        this.generations = generations;
        this.bodies = new JsonBodyReader(properties.maxRequestSize().toBytes());
        this.parser = new CompletionRequestParser(generations.contextLength(), properties.defaultMaxTokens(),
                generations.hasTokenizer());
        this.responder = new CompletionResponder(properties.keepAliveInterval(), metrics);
        this.metrics = metrics;
    }

    @PostMapping("/chat/completions")
    public void chatCompletions(HttpServletRequest request, HttpServletResponse response) {
        complete(Endpoint.CHAT, request, response);
    }

    @PostMapping("/completions")
    public void completions(HttpServletRequest request, HttpServletResponse response) {
        complete(Endpoint.COMPLETIONS, request, response);
    }

    @GetMapping("/models")
    public void models(HttpServletRequest request, HttpServletResponse response) throws IOException {
        requestId(request, response);
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("object", "list");
        list.putArray("data").add(model());
        writeJson(response, 200, list);
        metrics.request("models", 200);
    }

    /** Returns one model; {@code {*id}} also takes ids with slashes, such as {@code org/name}. */
    @GetMapping("/models/{*id}")
    public void model(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String requestId = requestId(request, response);
        String modelId = id.startsWith("/") ? id.substring(1) : id;
        if (!modelId.equals(generations.modelId())) {
            fail(response, "models", requestId, modelNotFound("Invalid value for 'model': the model '" + modelId
                    + "' does not exist; this server serves '" + generations.modelId() + "'."));
            return;
        }
        writeJson(response, 200, model());
        metrics.request("models", 200);
    }

    /** Handles every other method and path under {@code /v1/}: 405 on a known path, else 404. */
    @RequestMapping("/**")
    public void unmatched(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String requestId = requestId(request, response);
        String path = request.getRequestURI().substring(request.getContextPath().length());
        String shownPath = path.length() <= 200 ? path : path.substring(0, 200) + "...";
        String allowed = switch (path) {
            case "/v1/chat/completions", "/v1/completions" -> "POST";
            case "/v1/models" -> "GET";
            default -> path.startsWith("/v1/models/") ? "GET" : null;
        };
        if (allowed != null) {
            response.setHeader("Allow", allowed);
            fail(response, "unmatched", requestId, new OpenAiException(405, OpenAiException.INVALID_REQUEST, null,
                    "method_not_allowed", "Method " + request.getMethod() + " is not allowed on " + shownPath
                    + "; use " + allowed + "."));
        } else {
            fail(response, "unmatched", requestId, new OpenAiException(404, OpenAiException.INVALID_REQUEST, null,
                    "unknown_url", "Unknown URL: " + request.getMethod() + " " + shownPath + "; this server serves "
                    + ROUTES + "."));
        }
    }

    private void complete(Endpoint endpoint, HttpServletRequest request, HttpServletResponse response) {
        String requestId = requestId(request, response);
        String metricsEndpoint = endpoint == Endpoint.CHAT ? "chat.completions" : "completions";
        try {
            serve(endpoint, metricsEndpoint, requestId, request, response);
        } catch (IOException e) {
            // a failed stream write is handled in CompletionResponder; this is a failed body read or JSON write
            log.info("Client of request {} disconnected before the exchange ended ({})", requestId, e.toString());
        }
    }

    private void serve(Endpoint endpoint, String metricsEndpoint, String requestId, HttpServletRequest request,
                       HttpServletResponse response) throws IOException {
        String example = endpoint == Endpoint.CHAT
                ? CompletionRequestParser.CHAT_EXAMPLE : CompletionRequestParser.COMPLETION_EXAMPLE;
        CompletionRun run = null;
        try {
            CompletionRequest parsed = parser.parse(endpoint, bodies.read(request.getInputStream(), example));
            run = start(requestId, parsed);
            log.info("Request {} on {}: {} choice(s), max_tokens {}, stream {}, user {}, ignored fields {}", requestId,
                    metricsEndpoint, parsed.n(), parsed.maxTokensParam() != null ? parsed.maxTokens() : "default",
                    parsed.stream(), loggable(parsed.user()), parsed.ignoredFields().isEmpty() ? "-" : loggable(String.join(",", parsed.ignoredFields())));

            CompletionFormat format = CompletionFormat.of(endpoint, requestId, Instant.now().getEpochSecond(),
                    parsed.model(), parsed.stream() && parsed.includeUsage(), parsed.tokenIds() ? run.promptIds() : null);
            if (parsed.stream()) {
                responder.stream(requestId, parsed, run, format, response);
            } else {
                writeJson(response, 200, responder.collect(requestId, parsed, run, format));
            }
            metrics.request(metricsEndpoint, 200);
        } catch (OpenAiException e) {
            fail(response, metricsEndpoint, requestId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (run != null) {
                run.cancel();
            }
            fail(response, metricsEndpoint, requestId, new OpenAiException(503, OpenAiException.SERVER_ERROR, null,
                    "unavailable", "The server is shutting down; retry the request."));
        } catch (RuntimeException e) {
            if (run != null) {
                run.cancel();
            }
            log.error("Request {} failed in the router", requestId, e);
            fail(response, metricsEndpoint, requestId, new OpenAiException(500, OpenAiException.SERVER_ERROR, null,
                    "internal_error", "The server failed to handle the request. Retry it; if it keeps failing,"
                    + " report request id " + requestId + "."));
        }
    }

    /** Starts the generations, turning the engine's rejections into OpenAI errors. */
    private CompletionRun start(String requestId, CompletionRequest request) {
        try {
            return CompletionRun.start(generations, requestId, request, metrics);
        } catch (ContextLengthExceededException e) {
            throw contextLengthExceeded(request, e);
        } catch (InvalidRequestException e) {
            String param = "prompt".equals(e.field()) || "messages".equals(e.field())
                    ? request.endpoint().promptField() : e.field();
            String message = param == null ? "Invalid request: " + sentence(e.getMessage())
                    : "Invalid value for '" + param + "': " + sentence(e.getMessage());
            throw switch (e.kind()) {
                case MODEL_NOT_FOUND -> modelNotFound(message);
                case CONTEXT_EXCEEDED -> OpenAiException.invalid(param, "context_length_exceeded", message);
                case INVALID -> OpenAiException.invalid(param, "invalid_value", message);
            };
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid(null, "invalid_value", "Invalid request: " + sentence(e.getMessage()));
        } catch (BackendUnavailableException e) {
            log.warn("Request {}: {}", requestId, e.getCause() != null ? e.getCause().toString() : e.getMessage());
            throw new OpenAiException(503, OpenAiException.SERVER_ERROR, null, "unavailable",
                    "The server cannot take requests: " + sentence(e.getMessage()) + " Retry the request.");
        } catch (IllegalStateException e) {
            log.warn("Request {} cannot start: {}", requestId, e.getMessage());
            throw new OpenAiException(503, OpenAiException.SERVER_ERROR, null, "unavailable",
                    "The server is shutting down and takes no new requests; retry the request.");
        }
    }

    /** Words the context check with the request's own field names, like vLLM's message for the same case. */
    private static OpenAiException contextLengthExceeded(CompletionRequest request, ContextLengthExceededException e) {
        String promptPart = request.endpoint() == Endpoint.CHAT ? "in the messages" : "in the prompt";
        String param = request.maxTokensParam();
        String message = "This model's maximum context length is " + e.contextLength() + " tokens, but the request"
                + " needs " + ((long) e.promptTokens() + e.maxTokens()) + " tokens: " + e.promptTokens() + " "
                + promptPart + " plus " + e.maxTokens() + " for the completion ('" + param + "'). Set '" + param
                + "' to at most " + e.room() + ", or shorten the " + request.endpoint().promptField() + ".";
        return OpenAiException.invalid(param, "context_length_exceeded", message);
    }

    private static OpenAiException modelNotFound(String message) {
        return new OpenAiException(404, OpenAiException.INVALID_REQUEST, "model", "model_not_found", message);
    }

    private ObjectNode model() {
        ObjectNode model = JsonNodeFactory.instance.objectNode();
        model.put("id", generations.modelId());
        model.put("object", "model");
        model.put("created", startedAt);
        model.put("owned_by", "sparsemesh");
        model.put("max_model_len", generations.contextLength());
        return model;
    }

    /** Takes the request id from {@code X-Request-Id} or makes one, and echoes it in the response. */
    private static String requestId(HttpServletRequest request, HttpServletResponse response) {
        String sent = request.getHeader(REQUEST_ID_HEADER);
        String requestId = sent != null && USABLE_REQUEST_ID.matcher(sent).matches() ? sent : UUID.randomUUID().toString();
        response.setHeader(REQUEST_ID_HEADER, requestId);
        return requestId;
    }

    private void fail(HttpServletResponse response, String metricsEndpoint, String requestId, OpenAiException error)
            throws IOException {
        if (error.status() >= 500) {
            log.warn("Request {} failed ({} {}): {}", requestId, error.status(), error.code(), error.getMessage());
        } else {
            log.info("Request {} rejected ({} {}, param {}): {}", requestId, error.status(), error.code(),
                    error.param(), error.getMessage());
        }
        metrics.request(metricsEndpoint, error.status());
        if (response.isCommitted()) {
            return;
        }
        writeJson(response, error.status(), error.toJson());
    }

    private static void writeJson(HttpServletResponse response, int status, ObjectNode body) throws IOException {
        byte[] bytes = JsonBodyReader.MAPPER.writeValueAsBytes(body);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    /** Ends an engine message with a full stop. */
    private static String sentence(String message) {
        if (message == null || message.isEmpty()) {
            return "the request is invalid.";
        }
        return message.endsWith(".") ? message : message + ".";
    }

    /** Makes a client-chosen value safe for one log line: control characters replaced, at most 64 characters. */
    private static String loggable(String value) {
        if (value == null) {
            return "-";
        }
        String printable = value.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return printable.length() <= 64 ? printable : printable.substring(0, 64) + "...";
    }
}
