package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.ChatTemplate;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;
import io.sparsemesh.core.tokenizer.chat.LastUserMessageTemplate;
import io.sparsemesh.log.GenerationRecord;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns recorded prompts into token ids for the plan's model, the way the router encodes a text
 * prompt or chat messages: BOS as the tokenizer configuration sets it, and chat messages rendered
 * with the model's chat template. A model without a tokenizer maps each UTF-8 byte to the id
 * {@code byte mod vocab}, as the corpus prompts do, and renders chat as its last user message.
 */
final class PromptEncoder {

    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final int vocabSize;

    /**
     * @param tokenizer    the model's tokenizer, or null to map bytes to ids
     * @param chatTemplate the model's chat template; ignored without a tokenizer
     */
    PromptEncoder(Tokenizer tokenizer, ChatTemplate chatTemplate, int vocabSize) {
        this.tokenizer = tokenizer;
        this.chatTemplate = tokenizer == null ? new LastUserMessageTemplate() : chatTemplate;
        this.vocabSize = vocabSize;
    }

    int[] encodeText(String text) {
        return tokenizer == null ? byteIds(text, vocabSize) : tokenizer.encode(text, tokenizer.addBosByDefault());
    }

    /** @throws io.sparsemesh.core.tokenizer.chat.ChatTemplateException when the template rejects the messages */
    int[] encodeChat(List<GenerationRecord.Message> messages) {
        List<ChatMessage> chat = messages.stream().map(m -> new ChatMessage(m.role(), m.content())).toList();
        String prompt = chatTemplate.render(chat, GenerationPrompt.ADD);
        if (tokenizer == null) {
            return byteIds(prompt, vocabSize);
        }
        return tokenizer.encode(prompt, tokenizer.addBosByDefault() && !chatTemplate.rendersSpecialTokens());
    }

    /** Returns the UTF-8 bytes of {@code text}, each as the id {@code byte mod vocabSize}. */
    static int[] byteIds(String text, int vocabSize) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = (bytes[i] & 0xff) % vocabSize;
        }
        return ids;
    }
}
