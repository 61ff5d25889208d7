package io.sparsemesh.router.openai;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.math.BigInteger;

/**
 * Typed access to the fields of a request object. A JSON {@code null} counts as an absent field,
 * as in OpenAI's API; a value of the wrong type or out of range raises an {@link OpenAiException}
 * that names the field, the expected type or range, and the value sent.
 */
final class JsonFields {

    private final ObjectNode object;
    private final String prefix;

    /** @param prefix path of {@code object} in the request, e.g. {@code stream_options}, or "" for the root */
    JsonFields(ObjectNode object, String prefix) {
        this.object = object;
        this.prefix = prefix;
    }

    /** Returns the field's value, or null when it is absent or JSON null. */
    JsonNode get(String name) {
        JsonNode node = object.get(name);
        return node == null || node.isNull() ? null : node;
    }

    /** Returns the request path of a field, e.g. {@code stream_options.include_usage}. */
    String path(String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    JsonNode required(String name, String whatToSend) {
        JsonNode node = get(name);
        if (node == null) {
            throw missing(name, whatToSend);
        }
        return node;
    }

    OpenAiException missing(String name, String whatToSend) {
        return OpenAiException.invalid(path(name), "missing_required_parameter",
                "Missing required parameter '" + path(name) + "'; send " + whatToSend + ".");
    }

    String string(String name) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isString()) {
            throw wrongType(path(name), node, "a string");
        }
        return node.stringValue();
    }

    Boolean bool(String name) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            throw wrongType(path(name), node, "a boolean (true or false)");
        }
        return node.booleanValue();
    }

    /** Returns an integer in [min, max], or null when absent; {@code max} {@link Integer#MAX_VALUE} means no upper bound. */
    Integer integer(String name, int min, int max) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        String expected = max == Integer.MAX_VALUE ? "an integer of at least " + min : "an integer from " + min + " to " + max;
        if (!node.isIntegralNumber()) {
            throw wrongType(path(name), node, expected);
        }
        if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
            boolean below = node.bigIntegerValue().compareTo(BigInteger.valueOf(min)) < 0;
            String problem = max != Integer.MAX_VALUE ? "is outside the accepted range [" + min + ", " + max + "]"
                    : below ? "is below the minimum of " + min : "does not fit in a 32-bit integer";
            throw OpenAiException.invalid(path(name), below ? "integer_below_min_value" : "integer_above_max_value",
                    "Invalid value for '" + path(name) + "': " + node + " " + problem + "; send " + expected + ".");
        }
        return node.intValue();
    }

    /** Returns a 64-bit integer, or null when absent. */
    Long longInteger(String name) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw wrongType(path(name), node, "a 64-bit integer");
        }
        return node.longValue();
    }

    /**
     * Returns a number in [min, max], or in (min, max] when {@code minExclusive}, or null when absent.
     * Integers count as numbers.
     */
    Double number(String name, double min, boolean minExclusive, double max) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        String range = (minExclusive ? "(" : "[") + format(min) + ", " + format(max) + "]";
        if (!node.isNumber()) {
            throw wrongType(path(name), node, "a number in " + range);
        }
        double value = node.doubleValue();
        boolean below = minExclusive ? !(value > min) : !(value >= min);
        if (below || !(value <= max)) {
            throw OpenAiException.invalid(path(name), below ? "decimal_below_min_value" : "decimal_above_max_value",
                    "Invalid value for '" + path(name) + "': " + node + " is outside the accepted range " + range
                            + "; send a number " + (minExclusive ? "greater than " : "from ") + format(min)
                            + (minExclusive ? " and at most " : " to ") + format(max) + ".");
        }
        return value;
    }

    static OpenAiException wrongType(String path, JsonNode node, String expected) {
        return OpenAiException.invalid(path, "invalid_type", "Invalid type for '" + path + "': expected "
                + expected + ", but got " + describe(node) + " (" + abbreviate(node) + "); send " + expected + ".");
    }

    /** Names a JSON value's type with its article, e.g. "a string". */
    static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> node.isIntegralNumber() ? "an integer" : "a decimal number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }

    private static String abbreviate(JsonNode node) {
        String text = node.toString();
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }

    private static String format(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
