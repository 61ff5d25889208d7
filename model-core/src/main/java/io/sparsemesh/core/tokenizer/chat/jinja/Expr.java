package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;

/** Expressions of the template language; {@code line} is where the expression starts. */
sealed interface Expr {

    int line();

    record Literal(Object value, int line) implements Expr {
    }

    record Name(String name, int line) implements Expr {
    }

    /** {@code target.attribute}: an attribute first, then an item of that name (Jinja's {@code getattr}). */
    record Attribute(Expr target, String attribute, int line) implements Expr {
    }

    /** {@code target[key]}: an item first, then an attribute of that name (Jinja's {@code getitem}). */
    record Item(Expr target, Expr key, int line) implements Expr {
    }

    /** {@code target[start:stop:step]}; absent bounds are null. */
    record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {
    }

    record Call(Expr callee, List<Expr> arguments, List<Keyword> keywords, int line) implements Expr {
    }

    record Keyword(String name, Expr value) {
    }

    record Filter(Expr value, String name, List<Expr> arguments, List<Keyword> keywords, int line) implements Expr {
    }

    /** {@code value is [not] name(arguments)}. */
    record Test(Expr value, String name, List<Expr> arguments, boolean negated, int line) implements Expr {
    }

    /** {@code -value} or {@code +value}. */
    record Unary(String operator, Expr operand, int line) implements Expr {
    }

    /** Arithmetic and {@code ~} concatenation. */
    record Binary(String operator, Expr left, Expr right, int line) implements Expr {
    }

    /** A comparison chain {@code first op1 operand1 op2 operand2 ...}, as in Python. */
    record Compare(Expr first, List<String> operators, List<Expr> operands, int line) implements Expr {
    }

    record And(Expr left, Expr right, int line) implements Expr {
    }

    record Or(Expr left, Expr right, int line) implements Expr {
    }

    record Not(Expr operand, int line) implements Expr {
    }

    /** {@code then if condition else otherwise}; a missing else part is null and yields an undefined value. */
    record Conditional(Expr condition, Expr then, Expr otherwise, int line) implements Expr {
    }

    record ListLiteral(List<Expr> items, int line) implements Expr {
    }

    record TupleLiteral(List<Expr> items, int line) implements Expr {
    }

    record DictLiteral(List<Expr> keys, List<Expr> values, int line) implements Expr {
    }
}
