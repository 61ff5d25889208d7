package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;

/** Statements of a parsed template. */
sealed interface Node {

    record Text(String text) implements Node {
    }

    /** {@code {{ expression }}}. */
    record Output(Expr expression) implements Node {
    }

    record If(List<Branch> branches, List<Node> otherwise) implements Node {
    }

    record Branch(Expr condition, List<Node> body) {
    }

    /** {@code for targets in iterable [if filter]}, with the body run per item and {@code otherwise} when there was none. */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, int line)
            implements Node {
    }

    /** {@code set a = value} or {@code set a, b = value}. */
    record Set(List<String> names, Expr value, int line) implements Node {
    }

    /** {@code set namespace.attribute = value}. */
    record SetAttribute(String namespace, String attribute, Expr value, int line) implements Node {
    }

    /** {@code set name}...{@code endset}: the rendered body becomes the value. */
    record SetBlock(String name, List<Node> body) implements Node {
    }

    record Macro(String name, List<Parameter> parameters, List<Node> body, int line) implements Node {
    }

    /** A macro parameter; {@code defaultValue} is null for a required one. */
    record Parameter(String name, Expr defaultValue) {
    }

    /** {@code filter name(arguments)}...{@code endfilter}: the rendered body goes through the filter. */
    record FilterBlock(Expr.Filter filter, List<Node> body) implements Node {
    }

    /** A block rendered as is, such as Hugging Face's {@code generation} block that marks assistant text. */
    record Block(List<Node> body) implements Node {
    }

    record Break(int line) implements Node {
    }

    record Continue(int line) implements Node {
    }
}
