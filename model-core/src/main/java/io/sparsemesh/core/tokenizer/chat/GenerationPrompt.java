package io.sparsemesh.core.tokenizer.chat;

/** Whether a rendered conversation ends with the text that opens the assistant's turn. */
public enum GenerationPrompt {
    ADD, OMIT;

    public static GenerationPrompt of(boolean add) {
        return add ? ADD : OMIT;
    }
}
