package io.sparsemesh.core.tokenizer.chat.jinja;

/** One lexical token of a template; {@code value} is the decoded string or number of a literal. */
record Token(Kind kind, String text, Object value, int line) {

    enum Kind {
        TEXT, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, END
    }

    boolean is(Kind expectedKind, String expectedText) {
        return kind == expectedKind && text.equals(expectedText);
    }

    boolean isName(String name) {
        return is(Kind.NAME, name);
    }

    boolean isOperator(String operator) {
        return is(Kind.OPERATOR, operator);
    }
}
