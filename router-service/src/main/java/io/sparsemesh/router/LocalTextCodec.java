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

    /**
     * Encodes the messages' texts joined by newlines, without role markers, so a base model such as
     * stories260K continues them as plain text and a single user message is the same prompt as a
     * completion of its text. NOTE: checkpoints' chat templates are not applied yet, so instruction-tuned
     * models see this plain form too.
     */
    @Override
    public int[] encodeChat(List<ChatTurn> messages) {
        List<String> texts = messages.stream().map(ChatTurn::content).toList();
        return encodePrompt(String.join("\n", texts));
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
