package io.sparsemesh.core.tokenizer.chat.jinja;

/**
 * Thrown when a template calls {@code raise_exception(message)}, the function Hugging Face passes to
 * chat templates so they can reject input they do not support (for example roles that do not alternate).
 */
public final class JinjaRaisedException extends JinjaException {

    private final String templateMessage;

    public JinjaRaisedException(String templateMessage, int line) {
        super(templateMessage, line);
        this.templateMessage = templateMessage;
    }

    /** The message the template passed to {@code raise_exception}. */
    public String templateMessage() {
        return templateMessage;
    }
}
