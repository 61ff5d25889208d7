package io.sparsemesh.router.openai;

import io.sparsemesh.core.engine.SequencesFailedException;
import io.sparsemesh.router.openai.CompletionFormat.Choice;
import io.sparsemesh.router.openai.CompletionFormat.Usage;
import io.sparsemesh.router.openai.CompletionRun.Event;
import io.sparsemesh.router.openai.CompletionRun.Failed;
import io.sparsemesh.router.openai.CompletionRun.Finished;
import io.sparsemesh.router.openai.CompletionRun.Token;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Sends a running request's choices to the client, as server-sent events or as one JSON body.
 * Runs on the request's thread (a virtual thread when {@code spring.threads.virtual.enabled}),
 * which waits on the run's queue, never on the scheduler.
 */
final class CompletionResponder {

    private static final Logger log = LoggerFactory.getLogger(CompletionResponder.class);

    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Duration keepAliveInterval;
    private final OpenAiMetrics metrics;

    /** @param keepAliveInterval idle time after which a stream gets an SSE comment line */
    CompletionResponder(Duration keepAliveInterval, OpenAiMetrics metrics) {
        this.keepAliveInterval = keepAliveInterval;
        this.metrics = metrics;
    }

    /**
     * Streams the choices as {@code data: {...}} chunks, ending with {@code data: [DONE]}. Writes an
     * SSE comment whenever the stream has been idle for the keep-alive interval, so a client that
     * went away while its request waited or prefilled is noticed too. A failed write means the
     * client went away: the run is cancelled, which frees its caches at the scheduler's next step.
     */
    void stream(String requestId, CompletionRequest request, CompletionRun run, CompletionFormat format,
                HttpServletResponse response) throws InterruptedException {
        response.setStatus(200);
        response.setContentType("text/event-stream;charset=UTF-8");
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = response.getOutputStream();
            for (int choice = 0; choice < request.n(); choice++) {
                ObjectNode opening = format.openingChunk(choice);
                if (opening != null) {
                    writeData(out, opening);
                }
            }
            out.flush();

            int open = request.n();
            int completionTokens = 0;
            List<Event> batch = new ArrayList<>();
            while (open > 0) {
                Event first = run.poll(keepAliveInterval);
                if (first == null) {
                    out.write(KEEP_ALIVE);
                    out.flush();
                    continue;
                }
                batch.add(first);
                run.drainTo(batch);
                for (int i = 0; i < batch.size(); i++) {
                    Event event = batch.get(i);
                    switch (event) {
                        case Token _ -> i = writeTokens(out, format, batch, i) - 1;
                        case Finished end -> {
                            if (!end.text().isEmpty()) {
                                writeData(out, format.textChunk(end.choice(), end.text(), new int[0]));
                            }
                            writeData(out, format.finishChunk(end.choice(), end.reason().openAiName()));
                            completionTokens += end.stats().completionTokens();
                            open--;
                        }
                        case Failed failure -> {
                            run.cancel();
                            OpenAiException error = generationFailed(requestId, failure);
                            writeData(out, error.toJson());
                            out.write(DONE);
                            out.flush();
                            return;
                        }
                    }
                }
                batch.clear();
                out.flush();
            }

            if (request.includeUsage()) {
                writeData(out, format.usageChunk(new Usage(run.promptTokens(), completionTokens)));
            }
            out.write(DONE);
            out.flush();
        } catch (IOException e) {
            run.cancel();
            metrics.clientDisconnected();
            log.info("Client of request {} disconnected during the stream ({}); cancelled its generations",
                    requestId, e.toString());
        }
    }

    /**
     * Writes the run of {@link Token} events of one choice that starts at {@code start} as one chunk,
     * and returns the index after it. Writes nothing when the tokens add no text and token ids are off.
     */
    private static int writeTokens(OutputStream out, CompletionFormat format, List<Event> batch, int start)
            throws IOException {
        int choice = batch.get(start).choice();
        StringBuilder text = new StringBuilder();
        int end = start;
        while (end < batch.size() && batch.get(end) instanceof Token token && token.choice() == choice) {
            text.append(token.text());
            end++;
        }
        if (text.isEmpty() && !format.tokenIds()) {
            return end;
        }
        int[] ids = new int[end - start];
        for (int i = start; i < end; i++) {
            ids[i - start] = ((Token) batch.get(i)).id();
        }
        writeData(out, format.textChunk(choice, text.toString(), ids));
        return end;
    }

    /** Waits for every choice and returns the whole response body; throws {@link OpenAiException} when one failed. */
    ObjectNode collect(String requestId, CompletionRequest request, CompletionRun run, CompletionFormat format)
            throws InterruptedException {
        StringBuilder[] texts = new StringBuilder[request.n()];
        IntStream.Builder[] ids = new IntStream.Builder[request.n()];
        String[] reasons = new String[request.n()];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = new StringBuilder();
            ids[i] = IntStream.builder();
        }
        int open = request.n();
        int completionTokens = 0;
        while (open > 0) {
            Event event = run.poll(keepAliveInterval);
            switch (event) {
                case null -> {
                    // NOTE: a client that disconnects while waiting for a whole body is not noticed; its
                    // generations run to max_tokens
                }
                case Token token -> {
                    texts[token.choice()].append(token.text());
                    ids[token.choice()].add(token.id());
                }
                case Finished end -> {
                    texts[end.choice()].append(end.text());
                    reasons[end.choice()] = end.reason().openAiName();
                    completionTokens += end.stats().completionTokens();
                    open--;
                }
                case Failed failure -> {
                    run.cancel();
                    throw generationFailed(requestId, failure);
                }
            }
        }

        List<Choice> choices = new ArrayList<>(texts.length);
        for (int i = 0; i < texts.length; i++) {
            choices.add(new Choice(texts[i].toString(), reasons[i], ids[i].build().toArray()));
        }
        return format.body(choices, new Usage(run.promptTokens(), completionTokens));
    }

    /**
     * Maps a generation's failure to a 5xx error: 503 when a backend is unavailable or full, 504 on a
     * deadline. The client's message names no internal service, call or class; the log line has the details.
     */
    private static OpenAiException generationFailed(String requestId, Failed failure) {
        Throwable error = failure.error();
        log.warn("Choice {} of request {} failed: {}", failure.choice(), requestId, error.toString());
        int status = 500;
        String code = "internal_error";
        if (error instanceof SequencesFailedException backend) {
            code = backend.code().name().toLowerCase(Locale.ROOT);
            status = switch (backend.code()) {
                case UNAVAILABLE, RESOURCE_EXHAUSTED -> 503;
                case DEADLINE_EXCEEDED -> 504;
                case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION, INTERNAL -> 500;
            };
        } else if (error instanceof IllegalStateException) {
            // the scheduler was closed: this router is shutting down
            status = 503;
            code = "unavailable";
        }
        String cause = switch (status) {
            case 503 -> "a part of the model server is unavailable or at capacity";
            case 504 -> "a part of the model server did not answer in time";
            default -> "the model server hit an internal error";
        };
        return new OpenAiException(status, OpenAiException.SERVER_ERROR, null, code, "The generation stopped because "
                + cause + ". Retry the request; if it keeps failing, report request id " + requestId + ".");
    }

    private static void writeData(OutputStream out, ObjectNode chunk) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(JsonBodyReader.MAPPER.writeValueAsBytes(chunk));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
    }
}
