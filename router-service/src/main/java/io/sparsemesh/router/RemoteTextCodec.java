package io.sparsemesh.router;

import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;
import io.sparsemesh.transport.tokenizer.DecodeSession;
import io.sparsemesh.transport.tokenizer.RemoteTokenizer;
import io.sparsemesh.transport.tokenizer.RemoteTokenizerException;

import java.util.List;
import java.util.function.Supplier;

/**
 * Encodes prompts and renders chat templates on the tokenizer service, once per request and on
 * the request's thread. Streaming decoding happens on the scheduler's step thread for every token,
 * so it uses a local decoder when the router has the tokenizer files, and the service's
 * DecodeStream (one round trip per token) only when it has not.
 */
final class RemoteTextCodec implements TextCodec {

    private final RemoteTokenizer tokenizer;
    private final Supplier<Decoder> localDecoders; // null when the router has no tokenizer files

    RemoteTextCodec(RemoteTokenizer tokenizer, Supplier<Decoder> localDecoders) {
        this.tokenizer = tokenizer;
        this.localDecoders = localDecoders;
    }

    /** Returns the client of the tokenizer service. */
    RemoteTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public int[] encodePrompt(String text) {
        try {
            return tokenizer.encode(text, true);
        } catch (RemoteTokenizerException e) {
            throw asInvalidRequest(e, "prompt");
        }
    }

    @Override
    public int[] encodeChat(List<ChatTurn> messages) {
        if (messages.isEmpty()) {
            throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "messages",
                    "messages is empty; send at least one message");
        }
        try {
            return tokenizer.applyChatTemplate(messages.stream().map(m -> new ChatMessage(m.role(), m.content())).toList(),
                    GenerationPrompt.ADD).ids();
        } catch (RemoteTokenizerException e) {
            throw asInvalidRequest(e, "messages");
        }
    }

    @Override
    public Decoder newDecoder() {
        if (localDecoders != null) {
            return localDecoders.get();
        }
        DecodeSession session = tokenizer.openDecodeSession();
        return new Decoder() {
            @Override
            public String push(int token) {
                return session.push(token);
            }

            @Override
            public String finish() {
                try {
                    return session.finish();
                } finally {
                    session.close();
                }
            }
        };
    }

    /** Client errors of the service become request errors; its outages become {@link BackendUnavailableException}. */
    private static RuntimeException asInvalidRequest(RemoteTokenizerException e, String field) {
        return switch (e.code()) {
            case INVALID_ARGUMENT, RESOURCE_EXHAUSTED -> new InvalidRequestException(InvalidRequestException.Kind.INVALID,
                    field, e.description());
            default -> new BackendUnavailableException("its tokenizer service failed or did not respond in time", e);
        };
    }
}
