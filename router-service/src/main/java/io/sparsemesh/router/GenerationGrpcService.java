package io.sparsemesh.router;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationHandle;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.engine.SequencesFailedException;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.protocol.v1.Chunk;
import io.sparsemesh.protocol.v1.Finished;
import io.sparsemesh.protocol.v1.GenerateRequest;
import io.sparsemesh.protocol.v1.GenerateResponse;
import io.sparsemesh.protocol.v1.GenerationGrpc;
import io.sparsemesh.protocol.v1.ListModelsRequest;
import io.sparsemesh.protocol.v1.ListModelsResponse;
import io.sparsemesh.protocol.v1.ModelInfo;
import io.sparsemesh.protocol.v1.SamplingOptions;
import io.sparsemesh.protocol.v1.Started;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.UUID;

/** The router's {@code Generation} gRPC API: one server-streaming call per generation. */
public final class GenerationGrpcService extends GenerationGrpc.GenerationImplBase {

    private static final Logger log = LoggerFactory.getLogger(GenerationGrpcService.class);

    /** Output tokens when a request sets no {@code max_tokens}. */
    static final int DEFAULT_MAX_TOKENS = 256;

    private final GenerationService generations;
    private final String architecture;

    public GenerationGrpcService(GenerationService generations, String architecture) {
        this.generations = generations;
        this.architecture = architecture;
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> responses) {
        ServerCallStreamObserver<GenerateResponse> call = (ServerCallStreamObserver<GenerateResponse>) responses;
        String requestId = request.getRequestId().isEmpty() ? UUID.randomUUID().toString() : request.getRequestId();
        GenerationHandle handle;
        try {
            handle = generations.start(toCommand(requestId, request), new StreamEvents(call));
        } catch (InvalidRequestException e) {
            Status status = switch (e.kind()) {
                case MODEL_NOT_FOUND -> Status.NOT_FOUND;
                case CONTEXT_EXCEEDED -> Status.OUT_OF_RANGE;
                case INVALID -> Status.INVALID_ARGUMENT;
            };
            responses.onError(status.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (IllegalArgumentException e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (BackendUnavailableException e) {
            log.warn("Request {}: {}", requestId, e.getCause() != null ? e.getCause().toString() : e.getMessage());
            responses.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        call.setOnCancelHandler(() -> {
            log.info("Client cancelled request {}", requestId);
            handle.cancel();
        });
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> responses) {
        responses.onNext(ListModelsResponse.newBuilder()
                .addModels(ModelInfo.newBuilder()
                        .setId(generations.modelId())
                        .setArchitecture(architecture)
                        .setContextLength(generations.contextLength()))
                .build());
        responses.onCompleted();
    }

    private static GenerationCommand toCommand(String requestId, GenerateRequest request) {
        SamplingParams sampling = toSampling(request.getSampling());
        return switch (request.getInputCase()) {
            case PROMPT -> new GenerationCommand(requestId, request.getModel(), request.getPrompt(), null, null, sampling);
            case PROMPT_IDS -> new GenerationCommand(requestId, request.getModel(), null,
                    request.getPromptIds().getIdsList().stream().mapToInt(Integer::intValue).toArray(), null, sampling);
            case MESSAGES -> new GenerationCommand(requestId, request.getModel(), null, null,
                    request.getMessages().getMessagesList().stream()
                            .map(m -> new TextCodec.ChatTurn(m.getRole(), m.getContent())).toList(), sampling);
            case INPUT_NOT_SET -> throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "input",
                    "the request has no input; set prompt, prompt_ids or messages");
        };
    }

    private static SamplingParams toSampling(SamplingOptions options) {
        int maxTokens = options.getMaxTokens() == 0 ? DEFAULT_MAX_TOKENS : options.getMaxTokens();
        double topP = options.getTopP() == 0 ? 1 : options.getTopP();
        long seed = options.hasSeed() ? options.getSeed() : System.nanoTime();
        return new SamplingParams(options.getTemperature(), options.getTopK(), topP, seed, maxTokens,
                Set.copyOf(options.getStopTokenIdsList()), List.copyOf(options.getStopList()), options.getIgnoreEos());
    }

    /** Streams one generation's events as {@link GenerateResponse} messages. */
    private static final class StreamEvents implements GenerationEvents {
        private final ServerCallStreamObserver<GenerateResponse> call;

        StreamEvents(ServerCallStreamObserver<GenerateResponse> call) {
            this.call = call;
        }

        @Override
        public void started(int[] promptIds) {
            call.onNext(GenerateResponse.newBuilder()
                    .setStarted(Started.newBuilder().setPromptTokens(promptIds.length)).build());
        }

        @Override
        public void token(int id, String text) {
            if (!call.isCancelled()) {
                call.onNext(GenerateResponse.newBuilder()
                        .setChunk(Chunk.newBuilder().addIds(id).setText(text)).build());
            }
        }

        @Override
        public void finished(FinishReason reason, GenerationStats stats, String text) {
            if (call.isCancelled()) {
                return;
            }
            if (!text.isEmpty()) {
                call.onNext(GenerateResponse.newBuilder().setChunk(Chunk.newBuilder().setText(text)).build());
            }
            call.onNext(GenerateResponse.newBuilder().setFinished(Finished.newBuilder()
                    .setFinishReason(reason.openAiName())
                    .setPromptTokens(stats.promptTokens())
                    .setCompletionTokens(stats.completionTokens())
                    .setTimeToFirstTokenMs(stats.timeToFirstTokenNanos() / 1e6)
                    .setTimePerOutputTokenMs(stats.timePerOutputTokenNanos() / 1e6)).build());
            call.onCompleted();
        }

        @Override
        public void failed(Throwable error) {
            if (call.isCancelled()) {
                return;
            }
            Status status = error instanceof SequencesFailedException failure
                    ? Status.fromCode(Status.Code.valueOf(failure.code().name()))
                    : Status.INTERNAL;
            call.onError(status.withDescription(error.getMessage()).withCause(error).asRuntimeException());
        }
    }
}
