package io.sparsemesh.router;

import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationHandle;
import io.sparsemesh.core.engine.GenerationListener;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.core.sampling.StopStringMatcher;
import io.sparsemesh.router.log.GenerationEventsDecorator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns generation commands into scheduled sequences: encodes the prompt, checks it against the
 * model and the context, and streams tokens back as text with stop strings applied. Shared by the
 * gRPC and HTTP front ends.
 */
public final class GenerationService {

    private static final Logger log = LoggerFactory.getLogger(GenerationService.class);

    private final String modelId;
    private final Scheduler scheduler;
    private final TextCodec codec;
    private final int vocabSize;
    private final GenerationEventsDecorator decorator;

    public GenerationService(String modelId, Scheduler scheduler, TextCodec codec, int vocabSize) {
        this(modelId, scheduler, codec, vocabSize, GenerationEventsDecorator.none());
    }

    /** @param decorator wraps each accepted generation's events, e.g. to log it */
    public GenerationService(String modelId, Scheduler scheduler, TextCodec codec, int vocabSize,
                             GenerationEventsDecorator decorator) {
        this.modelId = modelId;
        this.scheduler = scheduler;
        this.codec = codec;
        this.vocabSize = vocabSize;
        this.decorator = decorator;
    }

    public String modelId() {
        return modelId;
    }

    public int contextLength() {
        return scheduler.options().contextLength();
    }

    /**
     * Starts a generation. Throws {@link InvalidRequestException} for a request that cannot be
     * served as sent; every other outcome goes to {@code events}.
     */
    public GenerationHandle start(GenerationCommand command, GenerationEvents events) {
        if (command.model() != null && !command.model().isEmpty() && !command.model().equals(modelId)) {
            throw new InvalidRequestException(InvalidRequestException.Kind.MODEL_NOT_FOUND, "model",
                    "the model '" + command.model() + "' does not exist; this server serves '" + modelId + "'");
        }
        int[] prompt = encode(command);
        if (prompt.length == 0) {
            throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "prompt",
                    "the prompt encodes to no tokens; send a non-empty prompt");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocabSize) {
                throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "prompt",
                        "prompt token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        // an id the model cannot produce would never stop anything, so it is a mistake in the request
        for (int id : new java.util.TreeSet<>(command.sampling().stopTokenIds())) {
            if (id < 0 || id >= vocabSize) {
                throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "stop_token_ids",
                        "stop token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        int context = contextLength();
        if (prompt.length >= context) {
            throw new InvalidRequestException(InvalidRequestException.Kind.CONTEXT_EXCEEDED, "messages",
                    "the prompt has " + prompt.length + " tokens, but this model's context holds " + context
                            + " tokens including the output; shorten the prompt to at most " + (context - 1) + " tokens");
        }
        SamplingParams sampling = fitToContext(command, prompt.length);

        events = decorator.decorate(command, events);
        events.started(prompt.clone());
        GenerationRequest request = new GenerationRequest(command.requestId(), prompt, sampling);
        log.debug("Request {} starts with {} prompt tokens", command.requestId(), prompt.length);
        return scheduler.submit(request, new Listener(command.requestId(), events, codec.newDecoder(),
                new StopStringMatcher(command.sampling().stopStrings())));
    }

    /** Applies the command's {@link GenerationCommand.MaxTokensPolicy} to the room the prompt leaves. */
    private SamplingParams fitToContext(GenerationCommand command, int promptTokens) {
        SamplingParams sampling = command.sampling();
        int room = contextLength() - promptTokens;
        if (sampling.maxTokens() <= room) {
            return sampling;
        }
        return switch (command.maxTokens()) {
            case STOP_AT_CONTEXT -> sampling;
            case REJECT_OVER_CONTEXT -> throw new ContextLengthExceededException(contextLength(), promptTokens,
                    sampling.maxTokens());
            case FIT_TO_CONTEXT -> sampling.withMaxTokens(room);
        };
    }

    /** Returns whether the served model encodes and decodes text. Without a tokenizer, prompts and output are token ids only. */
    public boolean hasTokenizer() {
        return codec.hasTokenizer();
    }

    private int[] encode(GenerationCommand command) {
        if (command.promptIds() != null) {
            return command.promptIds().clone();
        }
        if (command.chat() != null) {
            return codec.encodeChat(command.chat());
        }
        return codec.encodePrompt(command.prompt());
    }

    /** Decodes tokens to text, applies stop strings and forwards events. */
    private static final class Listener implements GenerationListener {
        private final String requestId;
        private final GenerationEvents events;
        private final TextCodec.Decoder decoder;
        private final StopStringMatcher stops;

        Listener(String requestId, GenerationEvents events, TextCodec.Decoder decoder, StopStringMatcher stops) {
            this.requestId = requestId;
            this.events = events;
            this.decoder = decoder;
            this.stops = stops;
        }

        @Override
        public boolean onToken(int token) {
            String text = stops.push(decoder.push(token));
            events.token(token, text);
            return !stops.stopped();
        }

        @Override
        public void onFinish(FinishReason reason, GenerationStats stats) {
            String rest = stops.stopped() ? "" : stops.push(decoder.finish()) + stops.flush();
            log.info("Request {} finished ({}): {} prompt + {} completion tokens, first token after {} ms",
                    requestId, reason.openAiName(), stats.promptTokens(), stats.completionTokens(),
                    stats.timeToFirstTokenNanos() / 1_000_000);
            events.finished(reason, stats, rest);
        }

        @Override
        public void onError(Throwable error) {
            log.warn("Request {} failed: {}", requestId, error.getMessage());
            events.failed(error);
        }
    }
}
