package io.sparsemesh.core.tokenizer.chat;

import java.util.List;

/** Turns a conversation into the prompt text a model was trained on. Implementations are immutable and thread-safe. */
public interface ChatTemplate {

    /**
     * Renders {@code messages}, ending with the start of the assistant's turn when {@code generationPrompt}
     * is {@link GenerationPrompt#ADD}.
     *
     * @throws ChatTemplateException when the template rejects the conversation or cannot render it
     */
    String render(List<ChatMessage> messages, GenerationPrompt generationPrompt);

    /**
     * Returns whether the rendered text already contains the model's special tokens, such as BOS, as
     * Hugging Face chat templates do. Such a prompt is encoded without adding BOS again, as
     * {@code apply_chat_template} encodes it with {@code add_special_tokens=False}.
     */
    boolean rendersSpecialTokens();

    /** Names the template and where it came from, for logs and {@code Describe}. */
    String description();
}
