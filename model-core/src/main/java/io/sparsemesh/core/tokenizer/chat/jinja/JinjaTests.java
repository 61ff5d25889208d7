package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is string}, ...) with their Python semantics. */
final class JinjaTests {

    private static final Set<String> NAMES = Set.of(
            "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string",
            "mapping", "iterable", "sequence", "callable", "even", "odd", "divisibleby", "eq", "equalto", "==",
            "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "lower",
            "upper", "sameas");

    private JinjaTests() {
    }

    static boolean supports(String name) {
        return NAMES.contains(name);
    }

    static boolean test(String name, Object value, List<Object> arguments, int line) {
        return switch (name) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> value == null;
            case "boolean" -> value instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(value);
            case "false" -> Boolean.FALSE.equals(value);
            case "integer" -> value instanceof Long;
            case "float" -> value instanceof Double;
            case "number" -> PyValues.isNumber(value);
            case "string" -> value instanceof String;
            case "mapping" -> value instanceof Map<?, ?>;
            case "iterable" -> value instanceof List<?> || value instanceof Map<?, ?> || value instanceof String
                    || value instanceof Undefined;
            case "sequence" -> value instanceof List<?> || value instanceof Map<?, ?> || value instanceof String;
            case "callable" -> value instanceof JinjaCallable;
            case "even" -> integer(value, name, line) % 2 == 0;
            case "odd" -> integer(value, name, line) % 2 != 0;
            case "divisibleby" -> integer(value, name, line) % integer(argument(arguments, name, line), name, line) == 0;
            case "eq", "equalto", "==" -> PyValues.equal(value, argument(arguments, name, line));
            case "ne", "!=" -> !PyValues.equal(value, argument(arguments, name, line));
            case "lt", "lessthan", "<" -> PyValues.compare(value, argument(arguments, name, line), "<", line) < 0;
            case "le", "<=" -> PyValues.compare(value, argument(arguments, name, line), "<=", line) <= 0;
            case "gt", "greaterthan", ">" -> PyValues.compare(value, argument(arguments, name, line), ">", line) > 0;
            case "ge", ">=" -> PyValues.compare(value, argument(arguments, name, line), ">=", line) >= 0;
            case "in" -> PyValues.contains(argument(arguments, name, line), value, line);
            case "lower" -> value instanceof String s && s.equals(s.toLowerCase(java.util.Locale.ROOT));
            case "upper" -> value instanceof String s && s.equals(s.toUpperCase(java.util.Locale.ROOT));
            case "sameas" -> sameAs(value, argument(arguments, name, line));
            default -> throw new JinjaException("unknown test '" + name + "'", line);
        };
    }

    private static boolean sameAs(Object value, Object other) {
        if (value == null || other == null || value instanceof Boolean || other instanceof Boolean) {
            return value == other || (value != null && value.equals(other) && value.getClass() == other.getClass());
        }
        return value == other;
    }

    private static long integer(Object value, String test, int line) {
        if (!(value instanceof Long) && !(value instanceof Boolean)) {
            throw new JinjaException("test '" + test + "' needs an integer, not " + PyValues.typeName(value), line);
        }
        return PyValues.toLong(value);
    }

    private static Object argument(List<Object> arguments, String test, int line) {
        if (arguments.isEmpty()) {
            throw new JinjaException("test '" + test + "' needs an argument", line);
        }
        return arguments.getFirst();
    }
}
