package io.sparsemesh.core.tokenizer.chat;

import java.util.List;

/**
 * The prompt for models that ship no chat template (base models such as stories260K): the content
 * of the last {@code user} message, as a text completion request would send it. System messages
 * and earlier turns are dropped, because a base model has no format in which to tell them apart.
 *
 * <p>Other servers differ here: vLLM rejects chat requests for such models ("As of transformers
 * v4.44, default chat template is no longer allowed"), and llama.cpp's server falls back to ChatML,
 * whose {@code <|im_start|>} markers a base model's vocabulary does not have and which it was never
 * trained on. Callers learn which messages were dropped from {@link #droppedMessages}.
 */
public final class LastUserMessageTemplate implements ChatTemplate {

    @Override
    public String render(List<ChatMessage> messages, GenerationPrompt generationPrompt) {
        return lastUserMessage(messages).content();
    }

    /** Returns how many of {@code messages} the prompt leaves out. */
    public int droppedMessages(List<ChatMessage> messages) {
        return messages.isEmpty() ? 0 : messages.size() - 1;
    }

    private static ChatMessage lastUserMessage(List<ChatMessage> messages) {
        for (ChatMessage message : messages.reversed()) {
            if (message.role().equals("user")) {
                return message;
            }
        }
        throw new ChatTemplateException("the model has no chat template, so its prompt is the last user message, "
                + "but the " + messages.size() + " messages contain no message with role 'user'");
    }

    @Override
    public boolean rendersSpecialTokens() {
        return false;
    }

    @Override
    public String description() {
        return "last user message (the model has no chat template)";
    }
}
