package io.sparsemesh.transport.tokenizer;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;
import io.sparsemesh.protocol.v1.ChatTemplateRequest;
import io.sparsemesh.protocol.v1.ChatTemplateResponse;
import io.sparsemesh.protocol.v1.DecodeRequest;
import io.sparsemesh.protocol.v1.DescribeTokenizerRequest;
import io.sparsemesh.protocol.v1.EncodeRequest;
import io.sparsemesh.protocol.v1.TokenizerGrpc;
import io.sparsemesh.protocol.v1.TokenizerInfo;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The router's client of the tokenizer service. Every unary call and every step of a
 * {@link DecodeSession} waits at most {@code callTimeout}; a decode session as a whole lasts at
 * most {@code sessionTimeout}. Failures surface as {@link RemoteTokenizerException} with the gRPC
 * status code. Thread-safe; the channel is owned by the caller.
 */
public final class RemoteTokenizer {

    private final Channel channel;
    private final Duration callTimeout;
    private final Duration sessionTimeout;

    public RemoteTokenizer(Channel channel, Duration callTimeout, Duration sessionTimeout) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.callTimeout = requirePositive(callTimeout, "callTimeout");
        this.sessionTimeout = requirePositive(sessionTimeout, "sessionTimeout");
    }

    private static Duration requirePositive(Duration timeout, String name) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + timeout);
        }
        return timeout;
    }

    /** Returns the channel to the tokenizer service. */
    public Channel channel() {
        return channel;
    }

    private TokenizerGrpc.TokenizerBlockingStub blocking() {
        return TokenizerGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Encodes {@code text}, with the model's BOS id first when {@code addBos} is true and the model has one. */
    public int[] encode(String text, boolean addBos) {
        EncodeRequest request = EncodeRequest.newBuilder().setText(text).setAddBos(addBos).build();
        return call("Encode", () -> toArray(blocking().encode(request).getIdsList()));
    }

    /** Decodes {@code ids} to text; special tokens produce no text. */
    public String decode(int[] ids) {
        DecodeRequest.Builder request = DecodeRequest.newBuilder();
        for (int id : ids) {
            request.addIds(id);
        }
        return call("Decode", () -> blocking().decode(request.build()).getText());
    }

    /** Renders {@code messages} with the model's chat template and encodes the prompt. */
    public ChatPrompt applyChatTemplate(List<ChatMessage> messages, GenerationPrompt generationPrompt) {
        ChatTemplateRequest.Builder request = ChatTemplateRequest.newBuilder()
                .setAddGenerationPrompt(generationPrompt == GenerationPrompt.ADD);
        for (ChatMessage message : messages) {
            request.addMessages(io.sparsemesh.protocol.v1.ChatMessage.newBuilder()
                    .setRole(message.role()).setContent(message.content()));
        }
        ChatTemplateResponse response = call("ApplyChatTemplate", () -> blocking().applyChatTemplate(request.build()));
        return new ChatPrompt(response.getPrompt(), toArray(response.getIdsList()));
    }

    public TokenizerDescription describe() {
        TokenizerInfo info = call("Describe", () -> blocking().describe(DescribeTokenizerRequest.getDefaultInstance()));
        return new TokenizerDescription(info.getModel(), info.getVocabSize(), info.getBosId(),
                new LinkedHashSet<>(info.getEosIdsList()));
    }

    /** Opens an incremental decoder for one generated sequence; close it when the sequence ends. */
    public DecodeSession openDecodeSession() {
        return new DecodeSession(TokenizerGrpc.newStub(channel), callTimeout, sessionTimeout);
    }

    private static <T> T call(String method, Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw new RemoteTokenizerException(method, e.getStatus(), e);
        }
    }

    static int[] toArray(List<Integer> ids) {
        int[] array = new int[ids.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = ids.get(i);
        }
        return array;
    }

    static RemoteTokenizerException failure(String method, Throwable error) {
        return new RemoteTokenizerException(method, Status.fromThrowable(error), error);
    }
}
