package io.sparsemesh.core.tokenizer.chat.jinja;

/** A template that cannot be parsed or rendered. The message names the template line where known. */
public class JinjaException extends RuntimeException {

    private final int line;

    public JinjaException(String message, int line) {
        super(line > 0 ? message + " (template line " + line + ")" : message);
        this.line = line;
    }

    /** The 1-based template line, or 0 when unknown. */
    public int line() {
        return line;
    }
}
