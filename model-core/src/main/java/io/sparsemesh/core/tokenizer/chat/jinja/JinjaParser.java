package io.sparsemesh.core.tokenizer.chat.jinja;

import io.sparsemesh.core.tokenizer.chat.jinja.Token.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser from tokens to {@link Node}s, with Jinja2's operator precedence (lowest
 * first): conditional expression, {@code or}, {@code and}, {@code not}, comparisons and {@code in},
 * {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary {@code -}, then postfix access, calls,
 * filters and tests. Unknown filters, tests and tags are rejected here, so a template fails when it is
 * loaded rather than on some request.
 */
final class JinjaParser {

    private static final Set<String> COMPARISON_OPERATORS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private int index;

    private JinjaParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        JinjaParser parser = new JinjaParser(JinjaLexer.tokenize(source));
        List<Node> body = parser.parseBody(Set.of());
        if (parser.current().kind() != Kind.END) {
            throw parser.error("unexpected tag '" + parser.peek(1).text() + "' outside any block");
        }
        return body;
    }

    // ---- statements

    /** Parses nodes until the end of input or a block tag whose name is in {@code endTags}, which stays unread. */
    private List<Node> parseBody(Set<String> endTags) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token token = current();
            switch (token.kind()) {
                case END -> {
                    if (!endTags.isEmpty()) {
                        throw error("missing end tag: expected one of " + endTags);
                    }
                    return body;
                }
                case TEXT -> {
                    body.add(new Node.Text(token.text()));
                    index++;
                }
                case VARIABLE_BEGIN -> {
                    index++;
                    body.add(new Node.Output(parseExpression(true)));
                    expect(Kind.VARIABLE_END, "}}");
                }
                case BLOCK_BEGIN -> {
                    Token name = peek(1);
                    if (name.kind() == Kind.NAME && endTags.contains(name.text())) {
                        return body;
                    }
                    index++;
                    body.add(parseStatement());
                }
                default -> throw error("unexpected '" + token.text() + "'");
            }
        }
    }

    private Node parseStatement() {
        Token tag = expect(Kind.NAME, null);
        return switch (tag.text()) {
            case "if" -> parseIf();
            case "for" -> parseFor(tag.line());
            case "set" -> parseSet(tag.line());
            case "macro" -> parseMacro(tag.line());
            case "filter" -> parseFilterBlock();
            case "generation" -> parseSimpleBlock("endgeneration");
            case "break" -> {
                expectBlockEnd();
                yield new Node.Break(tag.line());
            }
            case "continue" -> {
                expectBlockEnd();
                yield new Node.Continue(tag.line());
            }
            default -> throw new JinjaException("unknown or unsupported tag '" + tag.text() + "'", tag.line());
        };
    }

    private Node parseIf() {
        List<Node.Branch> branches = new ArrayList<>();
        Expr condition = parseExpression(true);
        expectBlockEnd();
        while (true) {
            List<Node> body = parseBody(Set.of("elif", "else", "endif"));
            branches.add(new Node.Branch(condition, body));
            index++;
            String tag = expect(Kind.NAME, null).text();
            switch (tag) {
                case "elif" -> {
                    condition = parseExpression(true);
                    expectBlockEnd();
                }
                case "else" -> {
                    expectBlockEnd();
                    List<Node> otherwise = parseBody(Set.of("endif"));
                    endTag("endif");
                    return new Node.If(branches, otherwise);
                }
                default -> {
                    expectBlockEnd();
                    return new Node.If(branches, List.of());
                }
            }
        }
    }

    private Node parseFor(int line) {
        List<String> targets = parseTargetNames();
        expectName("in");
        Expr iterable = parseExpression(false);
        Expr filter = null;
        if (current().isName("if")) {
            index++;
            filter = parseExpression(true);
        }
        if (current().isName("recursive")) {
            throw error("recursive for loops are not supported");
        }
        expectBlockEnd();
        List<Node> body = parseBody(Set.of("else", "endfor"));
        List<Node> otherwise = List.of();
        index++;
        if (expect(Kind.NAME, null).text().equals("else")) {
            expectBlockEnd();
            otherwise = parseBody(Set.of("endfor"));
            endTag("endfor");
        } else {
            expectBlockEnd();
        }
        return new Node.For(targets, iterable, filter, body, otherwise, line);
    }

    private Node parseSet(int line) {
        Token first = expect(Kind.NAME, null);
        if (current().isOperator(".")) {
            index++;
            String attribute = expect(Kind.NAME, null).text();
            expectOperator("=");
            Expr value = parseExpression(true);
            expectBlockEnd();
            return new Node.SetAttribute(first.text(), attribute, value, line);
        }
        List<String> names = new ArrayList<>(List.of(first.text()));
        while (current().isOperator(",")) {
            index++;
            names.add(expect(Kind.NAME, null).text());
        }
        if (current().kind() == Kind.BLOCK_END && names.size() == 1) {
            index++;
            List<Node> body = parseBody(Set.of("endset"));
            endTag("endset");
            return new Node.SetBlock(first.text(), body);
        }
        expectOperator("=");
        Expr value = parseTupleOrExpression();
        expectBlockEnd();
        return new Node.Set(List.copyOf(names), value, line);
    }

    private Node parseMacro(int line) {
        String name = expect(Kind.NAME, null).text();
        expectOperator("(");
        List<Node.Parameter> parameters = new ArrayList<>();
        while (!current().isOperator(")")) {
            String parameter = expect(Kind.NAME, null).text();
            Expr defaultValue = null;
            if (current().isOperator("=")) {
                index++;
                defaultValue = parseExpression(true);
            }
            parameters.add(new Node.Parameter(parameter, defaultValue));
            if (!current().isOperator(",")) {
                break;
            }
            index++;
        }
        expectOperator(")");
        expectBlockEnd();
        List<Node> body = parseBody(Set.of("endmacro"));
        endTag("endmacro");
        return new Node.Macro(name, List.copyOf(parameters), body, line);
    }

    private Node parseFilterBlock() {
        int line = current().line();
        Expr.Filter filter = parseFilter(new Expr.Literal("", line));
        expectBlockEnd();
        List<Node> body = parseBody(Set.of("endfilter"));
        endTag("endfilter");
        return new Node.FilterBlock(filter, body);
    }

    private Node parseSimpleBlock(String endTag) {
        expectBlockEnd();
        List<Node> body = parseBody(Set.of(endTag));
        endTag(endTag);
        return new Node.Block(body);
    }

    /** Consumes {@code {% name %}} where the parser stands at its {@code {%}. */
    private void endTag(String name) {
        index++;
        expectName(name);
        expectBlockEnd();
    }

    private List<String> parseTargetNames() {
        List<String> names = new ArrayList<>();
        boolean parenthesized = current().isOperator("(");
        if (parenthesized) {
            index++;
        }
        names.add(expect(Kind.NAME, null).text());
        while (current().isOperator(",")) {
            index++;
            names.add(expect(Kind.NAME, null).text());
        }
        if (parenthesized) {
            expectOperator(")");
        }
        return List.copyOf(names);
    }

    // ---- expressions

    private Expr parseTupleOrExpression() {
        int line = current().line();
        Expr first = parseExpression(true);
        if (!current().isOperator(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (current().isOperator(",")) {
            index++;
            items.add(parseExpression(true));
        }
        return new Expr.TupleLiteral(List.copyOf(items), line);
    }

    /** Parses an expression; {@code withConditional} is false where a following {@code if} belongs to a for loop. */
    private Expr parseExpression(boolean withConditional) {
        Expr expression = parseOr();
        if (!withConditional) {
            return expression;
        }
        while (current().isName("if")) {
            int line = current().line();
            index++;
            Expr condition = parseOr();
            Expr otherwise = null;
            if (current().isName("else")) {
                index++;
                otherwise = parseExpression(true);
            }
            expression = new Expr.Conditional(condition, expression, otherwise, line);
        }
        return expression;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            int line = current().line();
            index++;
            left = new Expr.Or(left, parseAnd(), line);
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            int line = current().line();
            index++;
            left = new Expr.And(left, parseNot(), line);
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = current().line();
            index++;
            return new Expr.Not(parseNot(), line);
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr first = parseAdditive();
        List<String> operators = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token token = current();
            if (token.kind() == Kind.OPERATOR && COMPARISON_OPERATORS.contains(token.text())) {
                index++;
                operators.add(token.text());
            } else if (token.isName("in")) {
                index++;
                operators.add("in");
            } else if (token.isName("not") && peek(1).isName("in")) {
                index += 2;
                operators.add("not in");
            } else {
                break;
            }
            operands.add(parseAdditive());
        }
        return operators.isEmpty() ? first : new Expr.Compare(first, List.copyOf(operators), List.copyOf(operands), line);
    }

    private Expr parseAdditive() {
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            Token operator = current();
            index++;
            left = new Expr.Binary(operator.text(), left, parseConcat(), operator.line());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMultiplicative();
        while (current().isOperator("~")) {
            int line = current().line();
            index++;
            left = new Expr.Binary("~", left, parseMultiplicative(), line);
        }
        return left;
    }

    private Expr parseMultiplicative() {
        Expr left = parsePower();
        while (current().isOperator("*") || current().isOperator("/") || current().isOperator("//")
                || current().isOperator("%")) {
            Token operator = current();
            index++;
            left = new Expr.Binary(operator.text(), left, parsePower(), operator.line());
        }
        return left;
    }

    private Expr parsePower() {
        Expr left = parseUnary(true);
        while (current().isOperator("**")) {
            int line = current().line();
            index++;
            left = new Expr.Binary("**", left, parseUnary(true), line);
        }
        return left;
    }

    private Expr parseUnary(boolean withFilters) {
        Token token = current();
        Expr expression;
        if (token.isOperator("-") || token.isOperator("+")) {
            index++;
            expression = new Expr.Unary(token.text(), parseUnary(false), token.line());
        } else {
            expression = parsePrimary();
        }
        expression = parsePostfix(expression);
        return withFilters ? parseFilterChain(expression) : expression;
    }

    private Expr parsePrimary() {
        Token token = current();
        index++;
        switch (token.kind()) {
            case NAME -> {
                return switch (token.text()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE, token.line());
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE, token.line());
                    case "none", "None" -> new Expr.Literal(null, token.line());
                    default -> new Expr.Name(token.text(), token.line());
                };
            }
            case STRING -> {
                StringBuilder value = new StringBuilder((String) token.value());
                while (current().kind() == Kind.STRING) {
                    value.append((String) current().value());
                    index++;
                }
                return new Expr.Literal(value.toString(), token.line());
            }
            case INTEGER, FLOAT -> {
                return new Expr.Literal(token.value(), token.line());
            }
            case OPERATOR -> {
                switch (token.text()) {
                    case "(" -> {
                        return parseParenthesized(token.line());
                    }
                    case "[" -> {
                        return new Expr.ListLiteral(parseItems("]"), token.line());
                    }
                    case "{" -> {
                        return parseDict(token.line());
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        throw new JinjaException("unexpected '" + token.text() + "' where a value is expected", token.line());
    }

    private Expr parseParenthesized(int line) {
        if (current().isOperator(")")) {
            index++;
            return new Expr.TupleLiteral(List.of(), line);
        }
        Expr first = parseExpression(true);
        if (current().isOperator(")")) {
            index++;
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (current().isOperator(",")) {
            index++;
            if (current().isOperator(")")) {
                break;
            }
            items.add(parseExpression(true));
        }
        expectOperator(")");
        return new Expr.TupleLiteral(List.copyOf(items), line);
    }

    private List<Expr> parseItems(String closing) {
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator(closing)) {
            items.add(parseExpression(true));
            if (!current().isOperator(",")) {
                break;
            }
            index++;
        }
        expectOperator(closing);
        return List.copyOf(items);
    }

    private Expr parseDict(int line) {
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            keys.add(parseExpression(true));
            expectOperator(":");
            values.add(parseExpression(true));
            if (!current().isOperator(",")) {
                break;
            }
            index++;
        }
        expectOperator("}");
        return new Expr.DictLiteral(List.copyOf(keys), List.copyOf(values), line);
    }

    private Expr parsePostfix(Expr expression) {
        while (true) {
            Token token = current();
            if (token.isOperator(".")) {
                index++;
                Token attribute = current();
                index++;
                if (attribute.kind() == Kind.NAME) {
                    expression = new Expr.Attribute(expression, attribute.text(), token.line());
                } else if (attribute.kind() == Kind.INTEGER) {
                    expression = new Expr.Item(expression, new Expr.Literal(attribute.value(), token.line()), token.line());
                } else {
                    throw new JinjaException("expected an attribute name after '.'", token.line());
                }
            } else if (token.isOperator("[")) {
                index++;
                expression = parseSubscript(expression, token.line());
            } else if (token.isOperator("(")) {
                expression = parseCall(expression);
            } else {
                return expression;
            }
        }
    }

    private Expr parseSubscript(Expr target, int line) {
        Expr start = null;
        if (!current().isOperator(":")) {
            start = parseExpression(true);
            if (current().isOperator("]")) {
                index++;
                return new Expr.Item(target, start, line);
            }
        }
        expectOperator(":");
        Expr stop = null;
        Expr step = null;
        if (!current().isOperator("]") && !current().isOperator(":")) {
            stop = parseExpression(true);
        }
        if (current().isOperator(":")) {
            index++;
            if (!current().isOperator("]")) {
                step = parseExpression(true);
            }
        }
        expectOperator("]");
        return new Expr.Slice(target, start, stop, step, line);
    }

    private Expr parseCall(Expr callee) {
        int line = current().line();
        Arguments arguments = parseArguments();
        return new Expr.Call(callee, arguments.positional(), arguments.keywords(), line);
    }

    private record Arguments(List<Expr> positional, List<Expr.Keyword> keywords) {
    }

    /** Parses {@code (a, b, name=c)}, starting at the opening parenthesis. */
    private Arguments parseArguments() {
        expectOperator("(");
        List<Expr> positional = new ArrayList<>();
        List<Expr.Keyword> keywords = new ArrayList<>();
        while (!current().isOperator(")")) {
            if (current().kind() == Kind.NAME && peek(1).isOperator("=")) {
                String name = current().text();
                index += 2;
                keywords.add(new Expr.Keyword(name, parseExpression(true)));
            } else {
                if (!keywords.isEmpty()) {
                    throw error("a positional argument follows a keyword argument");
                }
                positional.add(parseExpression(true));
            }
            if (!current().isOperator(",")) {
                break;
            }
            index++;
        }
        expectOperator(")");
        return new Arguments(List.copyOf(positional), List.copyOf(keywords));
    }

    private Expr parseFilterChain(Expr expression) {
        while (true) {
            Token token = current();
            if (token.isOperator("|")) {
                index++;
                expression = parseFilter(expression);
            } else if (token.isName("is")) {
                index++;
                expression = parseTest(expression, token.line());
            } else if (token.isOperator("(")) {
                expression = parseCall(expression);
            } else {
                return expression;
            }
        }
    }

    private Expr.Filter parseFilter(Expr value) {
        Token name = expect(Kind.NAME, null);
        if (!JinjaFilters.supports(name.text())) {
            throw new JinjaException("unknown filter '" + name.text() + "'", name.line());
        }
        Arguments arguments = current().isOperator("(") ? parseArguments() : new Arguments(List.of(), List.of());
        return new Expr.Filter(value, name.text(), arguments.positional(), arguments.keywords(), name.line());
    }

    private Expr parseTest(Expr value, int line) {
        boolean negated = false;
        if (current().isName("not")) {
            negated = true;
            index++;
        }
        Token name = expect(Kind.NAME, null);
        String testName = switch (name.text()) {
            case "none", "None" -> "none";
            case "true", "True" -> "true";
            case "false", "False" -> "false";
            default -> name.text();
        };
        if (!JinjaTests.supports(testName)) {
            throw new JinjaException("unknown test '" + testName + "'", name.line());
        }
        List<Expr> arguments = List.of();
        Token next = current();
        if (next.isOperator("(")) {
            arguments = parseArguments().positional();
        } else if (startsSingleTestArgument(next)) {
            arguments = List.of(parsePostfix(parsePrimary()));
        }
        return new Expr.Test(value, testName, arguments, negated, line);
    }

    /** Returns whether {@code token} starts the one argument a test may take without parentheses ({@code is divisibleby 3}). */
    private static boolean startsSingleTestArgument(Token token) {
        return switch (token.kind()) {
            case STRING, INTEGER, FLOAT -> true;
            case NAME -> !Set.of("else", "or", "and", "if", "is", "in", "not").contains(token.text());
            case OPERATOR -> token.text().equals("[") || token.text().equals("{");
            default -> false;
        };
    }

    // ---- token helpers

    private Token current() {
        return tokens.get(index);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(index + ahead, tokens.size() - 1));
    }

    private Token expect(Kind kind, String text) {
        Token token = current();
        if (token.kind() != kind || (text != null && !token.text().equals(text))) {
            String expected = text != null ? "'" + text + "'" : kind.name().toLowerCase().replace('_', ' ');
            throw error("expected " + expected + " but found '" + token.text() + "'");
        }
        index++;
        return token;
    }

    private void expectName(String name) {
        expect(Kind.NAME, name);
    }

    private void expectOperator(String operator) {
        expect(Kind.OPERATOR, operator);
    }

    private void expectBlockEnd() {
        expect(Kind.BLOCK_END, "%}");
    }

    private JinjaException error(String message) {
        return new JinjaException(message, current().line());
    }
}
