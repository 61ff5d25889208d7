package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a parsed template once. Scopes follow Jinja2: a for loop body and a macro body get their own
 * scope, so {@code set} inside them does not change variables outside (use {@code namespace} for
 * that), while {@code if} shares the enclosing scope. Not thread-safe: one renderer per render call.
 */
final class JinjaRenderer {

    /** Calls of macros nested deeper than this fail, so a recursive macro cannot exhaust the stack. */
    static final int MAX_MACRO_DEPTH = 64;

    private enum Flow { NORMAL, BREAK, CONTINUE }

    private static final class Scope {
        private final Scope parent;
        private final Map<String, Object> variables = new HashMap<>();

        private Scope(Scope parent) {
            this.parent = parent;
        }

        private Scope owner(String name) {
            for (Scope scope = this; scope != null; scope = scope.parent) {
                if (scope.variables.containsKey(name)) {
                    return scope;
                }
            }
            return null;
        }
    }

    private Scope scope;
    private int macroDepth;

    private JinjaRenderer(Map<String, Object> variables) {
        Scope globals = new Scope(null);
        globals.variables.putAll(JinjaGlobals.functions());
        scope = new Scope(globals);
        variables.forEach((name, value) -> scope.variables.put(name, PyValues.fromJava(value)));
    }

    static String render(List<Node> template, Map<String, ?> variables) {
        Map<String, Object> copy = new LinkedHashMap<>(variables);
        JinjaRenderer renderer = new JinjaRenderer(copy);
        StringBuilder out = new StringBuilder();
        renderer.execute(template, out);
        return out.toString();
    }

    // ---- statements

    private Flow execute(List<Node> nodes, StringBuilder out) {
        for (Node node : nodes) {
            Flow flow = execute(node, out);
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow execute(Node node, StringBuilder out) {
        switch (node) {
            case Node.Text text -> out.append(text.text());
            case Node.Output output -> out.append(PyValues.str(evaluate(output.expression())));
            case Node.If statement -> {
                for (Node.Branch branch : statement.branches()) {
                    if (PyValues.truthy(evaluate(branch.condition()))) {
                        return execute(branch.body(), out);
                    }
                }
                return execute(statement.otherwise(), out);
            }
            case Node.For loop -> executeFor(loop, out);
            case Node.Set set -> assign(set.names(), evaluate(set.value()), set.line());
            case Node.SetAttribute set -> {
                Object target = lookup(set.namespace());
                if (!(target instanceof Namespace namespace)) {
                    throw new JinjaException("cannot set attribute '" + set.attribute() + "' on '" + set.namespace()
                            + "', which is " + PyValues.typeName(target) + ", not a namespace", set.line());
                }
                namespace.set(set.attribute(), evaluate(set.value()));
            }
            case Node.SetBlock set -> {
                StringBuilder captured = new StringBuilder();
                execute(set.body(), captured);
                scope.variables.put(set.name(), captured.toString());
            }
            case Node.Macro macro -> scope.variables.put(macro.name(), defineMacro(macro));
            case Node.FilterBlock block -> {
                StringBuilder captured = new StringBuilder();
                execute(block.body(), captured);
                Expr.Filter filter = block.filter();
                out.append(PyValues.str(JinjaFilters.apply(filter.name(), captured.toString(),
                        evaluateAll(filter.arguments()), evaluateKeywords(filter.keywords()), filter.line())));
            }
            case Node.Block block -> {
                return execute(block.body(), out);
            }
            case Node.Break ignored -> {
                return Flow.BREAK;
            }
            case Node.Continue ignored -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    private void executeFor(Node.For loop, StringBuilder out) {
        List<Object> items = PyValues.iterate(evaluate(loop.iterable()), loop.line());
        if (loop.filter() != null) {
            List<Object> selected = new ArrayList<>();
            for (Object item : items) {
                if (PyValues.truthy(inChildScope(() -> {
                    assign(loop.targets(), item, loop.line());
                    return evaluate(loop.filter());
                }))) {
                    selected.add(item);
                }
            }
            items = selected;
        }
        if (items.isEmpty()) {
            execute(loop.otherwise(), out);
            return;
        }
        LoopInfo info = new LoopInfo(items);
        Scope outer = scope;
        try {
            for (int i = 0; i < items.size(); i++) {
                scope = new Scope(outer);
                info.advance(i);
                scope.variables.put("loop", info);
                assign(loop.targets(), items.get(i), loop.line());
                if (execute(loop.body(), out) == Flow.BREAK) {
                    break;
                }
            }
        } finally {
            scope = outer;
        }
    }

    private Object inChildScope(java.util.function.Supplier<Object> body) {
        Scope outer = scope;
        scope = new Scope(outer);
        try {
            return body.get();
        } finally {
            scope = outer;
        }
    }

    private void assign(List<String> names, Object value, int line) {
        if (names.size() == 1) {
            scope.variables.put(names.getFirst(), value);
            return;
        }
        List<Object> values = PyValues.iterate(value, line);
        if (values.size() != names.size()) {
            throw new JinjaException("cannot unpack " + values.size() + " values into " + names, line);
        }
        for (int i = 0; i < names.size(); i++) {
            scope.variables.put(names.get(i), values.get(i));
        }
    }

    private JinjaCallable defineMacro(Node.Macro macro) {
        Scope definition = scope;
        return (arguments, keywords, line) -> {
            if (arguments.size() > macro.parameters().size()) {
                throw new JinjaException("macro '" + macro.name() + "' takes " + macro.parameters().size()
                        + " arguments, got " + arguments.size(), line);
            }
            if (macroDepth >= MAX_MACRO_DEPTH) {
                throw new JinjaException("macro calls nest deeper than " + MAX_MACRO_DEPTH, line);
            }
            Scope caller = scope;
            scope = new Scope(definition);
            macroDepth++;
            try {
                for (int i = 0; i < macro.parameters().size(); i++) {
                    Node.Parameter parameter = macro.parameters().get(i);
                    Object value;
                    if (i < arguments.size()) {
                        value = arguments.get(i);
                    } else if (keywords.containsKey(parameter.name())) {
                        value = keywords.get(parameter.name());
                    } else if (parameter.defaultValue() != null) {
                        value = evaluate(parameter.defaultValue());
                    } else {
                        value = new Undefined("macro argument '" + parameter.name() + "' was not passed");
                    }
                    scope.variables.put(parameter.name(), value);
                }
                StringBuilder body = new StringBuilder();
                execute(macro.body(), body);
                return body.toString();
            } finally {
                macroDepth--;
                scope = caller;
            }
        };
    }

    private Object lookup(String name) {
        Scope owner = scope.owner(name);
        return owner != null ? owner.variables.get(name) : new Undefined("'" + name + "' is undefined");
    }

    // ---- expressions

    private Object evaluate(Expr expression) {
        return switch (expression) {
            case Expr.Literal literal -> literal.value();
            case Expr.Name name -> lookup(name.name());
            case Expr.Attribute attribute -> PyValues.attribute(evaluate(attribute.target()), attribute.attribute(),
                    attribute.line());
            case Expr.Item item -> PyValues.item(evaluate(item.target()), evaluate(item.key()), item.line());
            case Expr.Slice slice -> PyValues.slice(evaluate(slice.target()), bound(slice.start()), bound(slice.stop()),
                    bound(slice.step()), slice.line());
            case Expr.Call call -> {
                Object callee = PyValues.defined(evaluate(call.callee()), call.line());
                if (!(callee instanceof JinjaCallable function)) {
                    throw new JinjaException(PyValues.typeName(callee) + " object is not callable", call.line());
                }
                yield function.call(evaluateAll(call.arguments()), evaluateKeywords(call.keywords()), call.line());
            }
            case Expr.Filter filter -> JinjaFilters.apply(filter.name(), evaluate(filter.value()),
                    evaluateAll(filter.arguments()), evaluateKeywords(filter.keywords()), filter.line());
            case Expr.Test test -> test.negated() != JinjaTests.test(test.name(), evaluate(test.value()),
                    evaluateAll(test.arguments()), test.line());
            case Expr.Unary unary -> negate(unary.operator(), evaluate(unary.operand()), unary.line());
            case Expr.Binary binary -> arithmetic(binary.operator(), evaluate(binary.left()), evaluate(binary.right()),
                    binary.line());
            case Expr.Compare compare -> compare(compare);
            case Expr.And and -> {
                Object left = evaluate(and.left());
                yield PyValues.truthy(left) ? evaluate(and.right()) : left;
            }
            case Expr.Or or -> {
                Object left = evaluate(or.left());
                yield PyValues.truthy(left) ? left : evaluate(or.right());
            }
            case Expr.Not not -> !PyValues.truthy(evaluate(not.operand()));
            case Expr.Conditional conditional -> {
                if (PyValues.truthy(evaluate(conditional.condition()))) {
                    yield evaluate(conditional.then());
                }
                yield conditional.otherwise() != null ? evaluate(conditional.otherwise())
                        : new Undefined("the conditional expression has no else part");
            }
            case Expr.ListLiteral list -> evaluateAll(list.items());
            case Expr.TupleLiteral tuple -> new PyTuple(evaluateAll(tuple.items()));
            case Expr.DictLiteral dict -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < dict.keys().size(); i++) {
                    Object key = evaluate(dict.keys().get(i));
                    if (!(key instanceof String text)) {
                        throw new JinjaException("dict keys must be strings here, not " + PyValues.typeName(key),
                                dict.line());
                    }
                    map.put(text, evaluate(dict.values().get(i)));
                }
                yield map;
            }
        };
    }

    private Object bound(Expr expression) {
        return expression == null ? null : evaluate(expression);
    }

    private List<Object> evaluateAll(List<Expr> expressions) {
        List<Object> values = new ArrayList<>(expressions.size());
        for (Expr expression : expressions) {
            values.add(evaluate(expression));
        }
        return values;
    }

    private Map<String, Object> evaluateKeywords(List<Expr.Keyword> keywords) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Expr.Keyword keyword : keywords) {
            values.put(keyword.name(), evaluate(keyword.value()));
        }
        return values;
    }

    private boolean compare(Expr.Compare compare) {
        Object left = evaluate(compare.first());
        for (int i = 0; i < compare.operators().size(); i++) {
            String operator = compare.operators().get(i);
            Object right = evaluate(compare.operands().get(i));
            int line = compare.line();
            boolean satisfied = switch (operator) {
                case "==" -> PyValues.equal(left, right);
                case "!=" -> !PyValues.equal(left, right);
                case "<" -> PyValues.compare(defined(left, line), defined(right, line), operator, line) < 0;
                case "<=" -> PyValues.compare(defined(left, line), defined(right, line), operator, line) <= 0;
                case ">" -> PyValues.compare(defined(left, line), defined(right, line), operator, line) > 0;
                case ">=" -> PyValues.compare(defined(left, line), defined(right, line), operator, line) >= 0;
                case "in" -> PyValues.contains(right, left, line);
                case "not in" -> !PyValues.contains(right, left, line);
                default -> throw new JinjaException("unknown comparison '" + operator + "'", line);
            };
            if (!satisfied) {
                return false;
            }
            left = right;
        }
        return true;
    }

    private static Object defined(Object value, int line) {
        return PyValues.defined(value, line);
    }

    private static Object negate(String operator, Object operand, int line) {
        Object value = defined(operand, line);
        if (!PyValues.isNumber(value)) {
            throw new JinjaException("bad operand type for unary " + operator + ": " + PyValues.typeName(value), line);
        }
        if (operator.equals("+")) {
            return value instanceof Boolean ? PyValues.toLong(value) : value;
        }
        if (value instanceof Double d) {
            return -d;
        }
        return -PyValues.toLong(value);
    }

    /** Python's binary operators, and Jinja's {@code ~}, which joins the string forms of both sides. */
    static Object arithmetic(String operator, Object left, Object right, int line) {
        if (operator.equals("~")) {
            return PyValues.str(left) + PyValues.str(right);
        }
        Object a = defined(left, line);
        Object b = defined(right, line);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            return numeric(operator, a, b, line);
        }
        switch (operator) {
            case "+" -> {
                if (a instanceof String x && b instanceof String y) {
                    return x + y;
                }
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> joined = new ArrayList<>(x);
                    joined.addAll(y);
                    return joined;
                }
            }
            case "*" -> {
                if (a instanceof String s && b instanceof Long n) {
                    return s.repeat((int) Math.max(0, n));
                }
                if (a instanceof Long n && b instanceof String s) {
                    return s.repeat((int) Math.max(0, n));
                }
            }
            default -> {
            }
        }
        throw new JinjaException("unsupported operand types for " + operator + ": " + PyValues.typeName(a) + " and "
                + PyValues.typeName(b), line);
    }

    private static Object numeric(String operator, Object a, Object b, int line) {
        boolean integral = !(a instanceof Double) && !(b instanceof Double);
        if (integral) {
            long x = PyValues.toLong(a);
            long y = PyValues.toLong(b);
            switch (operator) {
                case "+" -> {
                    return Math.addExact(x, y);
                }
                case "-" -> {
                    return Math.subtractExact(x, y);
                }
                case "*" -> {
                    return Math.multiplyExact(x, y);
                }
                case "//" -> {
                    return Math.floorDiv(x, nonZero(y, line));
                }
                case "%" -> {
                    return Math.floorMod(x, nonZero(y, line));
                }
                case "**" -> {
                    if (y >= 0) {
                        long result = 1;
                        for (long i = 0; i < y; i++) {
                            result = Math.multiplyExact(result, x);
                        }
                        return result;
                    }
                }
                default -> {
                }
            }
        }
        double x = PyValues.toDouble(a);
        double y = PyValues.toDouble(b);
        return switch (operator) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / nonZero(y, line);
            case "//" -> Math.floor(x / nonZero(y, line));
            case "%" -> x - nonZero(y, line) * Math.floor(x / y);
            case "**" -> Math.pow(x, y);
            default -> throw new JinjaException("unknown operator '" + operator + "'", line);
        };
    }

    private static long nonZero(long value, int line) {
        if (value == 0) {
            throw new JinjaException("division by zero", line);
        }
        return value;
    }

    private static double nonZero(double value, int line) {
        if (value == 0.0) {
            throw new JinjaException("division by zero", line);
        }
        return value;
    }
}
