package io.sparsemesh.router;

import io.sparsemesh.core.tokenizer.StreamingDecoder;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.ChatTemplate;
import io.sparsemesh.core.tokenizer.chat.ChatTemplateException;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;

import java.util.List;

/** The checkpoint's own tokenizer and chat template, run in the router. */
final class LocalTextCodec implements TextCodec {

    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;

    LocalTextCodec(Tokenizer tokenizer, ChatTemplate chatTemplate) {
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
    }

    @Override
    public int[] encodePrompt(String text) {
        return tokenizer.encode(text, tokenizer.addBosByDefault());
    }

    @Override
    public int[] encodeChat(List<ChatTurn> messages) {
        if (messages.isEmpty()) {
            throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "messages",
                    "messages is empty; send at least one message");
        }
        String prompt;
        try {
            prompt = chatTemplate.render(messages.stream().map(m -> new ChatMessage(m.role(), m.content())).toList(),
                    GenerationPrompt.ADD);
        } catch (ChatTemplateException e) {
            throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "messages",
                    "the model's chat template rejected the messages: " + e.getMessage());
        }
        boolean addBos = tokenizer.addBosByDefault() && !chatTemplate.rendersSpecialTokens();
        return tokenizer.encode(prompt, addBos);
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
