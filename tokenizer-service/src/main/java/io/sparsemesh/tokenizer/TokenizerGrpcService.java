package io.sparsemesh.tokenizer;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.core.tokenizer.StreamingDecoder;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.ChatTemplate;
import io.sparsemesh.core.tokenizer.chat.ChatTemplateException;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;
import io.sparsemesh.core.tokenizer.chat.LastUserMessageTemplate;
import io.sparsemesh.protocol.v1.ChatTemplateRequest;
import io.sparsemesh.protocol.v1.ChatTemplateResponse;
import io.sparsemesh.protocol.v1.DecodeRequest;
import io.sparsemesh.protocol.v1.DecodeResponse;
import io.sparsemesh.protocol.v1.DecodeStreamRequest;
import io.sparsemesh.protocol.v1.DecodeStreamResponse;
import io.sparsemesh.protocol.v1.DescribeTokenizerRequest;
import io.sparsemesh.protocol.v1.EncodeRequest;
import io.sparsemesh.protocol.v1.EncodeResponse;
import io.sparsemesh.protocol.v1.TokenizerGrpc;
import io.sparsemesh.protocol.v1.TokenizerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The tokenizer service over gRPC: encode, decode, incremental decoding of one sequence per
 * {@code DecodeStream}, the model's chat template and a description of the vocabulary. A plain class,
 * so the standalone launcher can host it on an in-process server as well as Spring on a TCP port.
 *
 * <p>Errors are statuses with a description: INVALID_ARGUMENT for empty text, token ids outside the
 * vocabulary and conversations the chat template rejects; RESOURCE_EXHAUSTED for inputs above
 * {@link TokenizerLimits}; CANCELLED when the client went away before the work started.
 */
public class TokenizerGrpcService extends TokenizerGrpc.TokenizerImplBase {

    private static final Logger log = LoggerFactory.getLogger(TokenizerGrpcService.class);

    private final String modelName;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final TokenizerLimits limits;
    private final TokenizerMetrics metrics;

    public TokenizerGrpcService(String modelName, Tokenizer tokenizer, ChatTemplate chatTemplate, TokenizerLimits limits,
                                TokenizerMetrics metrics) {
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.limits = limits;
        this.metrics = metrics;
        log.info("Tokenizer service for {}: {} tokens, chat template: {}, limits {}", modelName, tokenizer.vocabSize(),
                chatTemplate.description(), limits);
    }

    @Override
    public void encode(EncodeRequest request, StreamObserver<EncodeResponse> responses) {
        unary("Encode", responses, () -> {
            String text = request.getText();
            if (text.isEmpty()) {
                throw invalid("text is empty; send at least one character to encode");
            }
            checkInputBytes(utf8Length(text), "text");
            int[] ids = tokenizer.encode(text, request.getAddBos());
            metrics.encoded(ids.length);
            return EncodeResponse.newBuilder().addAllIds(boxed(ids)).build();
        });
    }

    @Override
    public void decode(DecodeRequest request, StreamObserver<DecodeResponse> responses) {
        unary("Decode", responses, () -> {
            int[] ids = checkIds(request.getIdsList());
            metrics.decoded(ids.length);
            return DecodeResponse.newBuilder().setText(tokenizer.decode(ids)).build();
        });
    }

    @Override
    public void applyChatTemplate(ChatTemplateRequest request, StreamObserver<ChatTemplateResponse> responses) {
        unary("ApplyChatTemplate", responses, () -> {
            List<ChatMessage> messages = new ArrayList<>(request.getMessagesCount());
            long bytes = 0;
            for (io.sparsemesh.protocol.v1.ChatMessage message : request.getMessagesList()) {
                messages.add(new ChatMessage(message.getRole(), message.getContent()));
                bytes += utf8Length(message.getContent());
            }
            if (messages.isEmpty()) {
                throw invalid("the conversation is empty; send at least one message");
            }
            checkInputBytes(bytes, "the message contents");

            String prompt = chatTemplate.render(messages, GenerationPrompt.of(request.getAddGenerationPrompt()));
            if (chatTemplate instanceof LastUserMessageTemplate fallback) {
                // Fail-open choice: a model without a template still gets a prompt, and the metric counts what it left out.
                metrics.droppedMessages(fallback.droppedMessages(messages));
            }
            boolean addBos = !chatTemplate.rendersSpecialTokens() && tokenizer.addBosByDefault();
            // NOTE: SentencePiece tokenizers (GGUF, tok*.bin) encode control-token text such as "<s>" as
            // plain characters, so a GGUF template's bos_token text does not become the BOS id.
            int[] ids = tokenizer.encode(prompt, addBos);
            metrics.encoded(ids.length);
            return ChatTemplateResponse.newBuilder().setPrompt(prompt).addAllIds(boxed(ids)).build();
        });
    }

    @Override
    public void describe(DescribeTokenizerRequest request, StreamObserver<TokenizerInfo> responses) {
        unary("Describe", responses, () -> TokenizerInfo.newBuilder()
                .setModel(modelName)
                .setVocabSize(tokenizer.vocabSize())
                .setBosId(tokenizer.bosId())
                .addAllEosIds(tokenizer.eosIds().stream().sorted().toList())
                .build());
    }

    @Override
    public StreamObserver<DecodeStreamRequest> decodeStream(StreamObserver<DecodeStreamResponse> responses) {
        ServerCallStreamObserver<DecodeStreamResponse> serverResponses = (ServerCallStreamObserver<DecodeStreamResponse>) responses;
        DecodeStreamHandler handler = new DecodeStreamHandler(serverResponses);
        serverResponses.setOnCancelHandler(handler::cancelled);
        return handler;
    }

    /** One sequence: each request's ids go through one {@link StreamingDecoder}, and each request gets one response. */
    private final class DecodeStreamHandler implements StreamObserver<DecodeStreamRequest> {

        private final ServerCallStreamObserver<DecodeStreamResponse> responses;
        private final StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        private boolean finished;
        private long tokens;

        private DecodeStreamHandler(ServerCallStreamObserver<DecodeStreamResponse> responses) {
            this.responses = responses;
        }

        @Override
        public void onNext(DecodeStreamRequest request) {
            if (finished || responses.isCancelled()) {
                return;
            }
            long start = System.nanoTime();
            Status.Code status = Status.Code.OK;
            try {
                int[] ids = checkIds(request.getIdsList());
                StringBuilder text = new StringBuilder();
                for (int id : ids) {
                    text.append(decoder.push(id));
                }
                tokens += ids.length;
                metrics.decoded(ids.length);
                if (request.getFlush()) {
                    text.append(decoder.flush());
                }
                responses.onNext(DecodeStreamResponse.newBuilder().setText(text.toString()).build());
                if (request.getFlush()) {
                    finished = true;
                    responses.onCompleted();
                }
            } catch (StatusRuntimeException e) {
                status = e.getStatus().getCode();
                finished = true;
                log.debug("DecodeStream request rejected after {} tokens: {}", tokens, e.getStatus().getDescription());
                responses.onError(e);
            } catch (RuntimeException e) {
                status = Status.Code.INTERNAL;
                finished = true;
                log.error("DecodeStream failed after {} tokens", tokens, e);
                responses.onError(internal(e).asRuntimeException());
            } finally {
                metrics.request("DecodeStream", status, Duration.ofNanos(System.nanoTime() - start));
            }
        }

        @Override
        public void onError(Throwable error) {
            finished = true;
            log.debug("DecodeStream ended by the client after {} tokens: {}", tokens, Status.fromThrowable(error));
        }

        /** Completes the stream when the client half-closes without a flush request, sending what is held back. */
        @Override
        public void onCompleted() {
            if (finished) {
                return;
            }
            finished = true;
            String rest = decoder.flush();
            if (!rest.isEmpty()) {
                responses.onNext(DecodeStreamResponse.newBuilder().setText(rest).build());
            }
            responses.onCompleted();
        }

        private void cancelled() {
            finished = true;
            log.debug("DecodeStream cancelled by the client after {} tokens", tokens);
        }
    }

    // ---- request checks

    private int[] checkIds(List<Integer> ids) {
        if (ids.size() > limits.maxInputTokens()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("the request has " + ids.size() + " token ids, more than the limit of "
                    + limits.maxInputTokens() + " (sparsemesh.tokenizer.max-input-tokens); split it into smaller requests")
                    .asRuntimeException();
        }
        int[] array = new int[ids.size()];
        for (int i = 0; i < array.length; i++) {
            int id = ids.get(i);
            if (id < 0 || id >= tokenizer.vocabSize()) {
                throw invalid("token id " + id + " at position " + i + " is invalid: the vocabulary of " + modelName
                        + " has " + tokenizer.vocabSize() + " tokens (ids 0 to " + (tokenizer.vocabSize() - 1) + ")");
            }
            array[i] = id;
        }
        return array;
    }

    private void checkInputBytes(long bytes, String what) {
        if (bytes > limits.maxInputBytes()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription(what + " is " + bytes + " bytes of UTF-8, more than the limit of "
                    + limits.maxInputBytes() + " bytes (sparsemesh.tokenizer.max-input-bytes)").asRuntimeException();
        }
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }

    private static Status internal(RuntimeException e) {
        return Status.INTERNAL.withDescription("the tokenizer failed: " + e).withCause(e);
    }

    /** Runs one unary call: skips it when the client has gone, maps failures to statuses, and records metrics. */
    private <T> void unary(String method, StreamObserver<T> responses, Supplier<T> work) {
        long start = System.nanoTime();
        Status.Code status = Status.Code.OK;
        try {
            if (Context.current().isCancelled()) {
                throw Status.CANCELLED.withDescription("the client cancelled the call before it started").asRuntimeException();
            }
            T response = work.get();
            responses.onNext(response);
            responses.onCompleted();
        } catch (StatusRuntimeException e) {
            status = e.getStatus().getCode();
            log.debug("{} rejected: {}", method, e.getStatus().getDescription());
            responses.onError(e);
        } catch (ChatTemplateException e) {
            status = Status.Code.INVALID_ARGUMENT;
            log.debug("{} rejected: {}", method, e.getMessage());
            responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            status = Status.Code.INTERNAL;
            log.error("{} failed", method, e);
            responses.onError(internal(e).asRuntimeException());
        } finally {
            metrics.request(method, status, Duration.ofNanos(System.nanoTime() - start));
        }
    }

    /** Returns the UTF-8 length of {@code text} without encoding it; an unpaired surrogate counts as 3 bytes. */
    static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static List<Integer> boxed(int[] ids) {
        List<Integer> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return list;
    }
}
