package io.sparsemesh.core.tokenizer.chat.jinja;

/**
 * The value of a missing variable, attribute or item, as Jinja2's default {@code Undefined}: it prints
 * as an empty string, is false, iterates as empty and equals only another undefined value; any other
 * use (arithmetic, attribute access, calls) fails with {@link #describe()}.
 */
record Undefined(String description) {

    String describe() {
        return description;
    }

    @Override
    public String toString() {
        return "";
    }
}
