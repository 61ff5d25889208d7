package io.sparsemesh.core.tokenizer.chat;

/**
 * A conversation the chat template cannot render: the template rejected it (for example with
 * {@code raise_exception('Conversation roles must alternate ...')}), it is empty, or rendering failed.
 */
public class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
