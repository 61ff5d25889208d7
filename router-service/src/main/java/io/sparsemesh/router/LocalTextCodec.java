package io.sparsemesh.router;

import io.sparsemesh.core.tokenizer.StreamingDecoder;
import io.sparsemesh.core.tokenizer.Tokenizer;

import java.util.List;

/** The checkpoint's own tokenizer, run in the router. */
final class LocalTextCodec implements TextCodec {

    private final Tokenizer tokenizer;

    LocalTextCodec(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public int[] encodePrompt(String text) {
        return tokenizer.encode(text, tokenizer.addBosByDefault());
    }

    @Override
    public int[] encodeChat(List<ChatTurn> messages) {
        // NOTE: renders the plain base-model form until chat templates are wired in: "role: content" lines,
        // then "assistant:" to start the reply.
        StringBuilder prompt = new StringBuilder();
        for (ChatTurn turn : messages) {
            prompt.append(turn.role()).append(": ").append(turn.content()).append('\n');
        }
        prompt.append("assistant:");
        return encodePrompt(prompt.toString());
    }

    @Override
    public Decoder newDecoder() {
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        return new Decoder() {
            @Override
            public String push(int token) {
                return decoder.push(token);
            }

            @Override
            public String finish() {
                return decoder.flush();
            }
        };
    }
}
