package io.sparsemesh.core.tokenizer.chat;

import java.util.Objects;

/** One turn of a conversation: a role such as {@code system}, {@code user} or {@code assistant}, and its text. */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
