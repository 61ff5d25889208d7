package io.sparsemesh.core.tokenizer.chat.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python semantics for the values templates see: {@code null} is None, {@link Long} is int,
 * {@link Double} is float, {@link String}, {@link List} (list and tuple), {@link Map} (dict, insertion
 * order), {@link Boolean}, {@link Undefined}, {@link Namespace}, {@link LoopInfo} and {@link JinjaCallable}.
 * Strings are indexed and measured in code points, as Python does.
 */
final class PyValues {

    private PyValues() {
    }

    /** Converts Java values a caller passes (Integer, Float, arrays, other maps) to the types above. */
    static Object fromJava(Object value) {
        return switch (value) {
            case null -> null;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Map<?, ?> map -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> copy.put(String.valueOf(k), fromJava(v)));
                yield copy;
            }
            case Collection<?> collection -> {
                List<Object> copy = new ArrayList<>(collection.size());
                collection.forEach(item -> copy.add(fromJava(item)));
                yield copy;
            }
            case Object[] array -> fromJava(Arrays.asList(array));
            default -> value;
        };
    }

    static boolean isUndefined(Object value) {
        return value instanceof Undefined;
    }

    static boolean isNumber(Object value) {
        return value instanceof Long || value instanceof Double || value instanceof Boolean;
    }

    static boolean truthy(Object value) {
        return switch (value) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0.0;
            case String s -> !s.isEmpty();
            case List<?> list -> !list.isEmpty();
            case Map<?, ?> map -> !map.isEmpty();
            default -> true;
        };
    }

    /** Python's {@code str(value)}; undefined values print as an empty string. */
    static String str(Object value) {
        return switch (value) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> formatFloat(d);
            case List<?> list -> repr(list);
            case Map<?, ?> map -> repr(map);
            default -> value.toString();
        };
    }

    /** Python's {@code repr(value)}, used when lists and dicts are printed. */
    static String repr(Object value) {
        return switch (value) {
            case String s -> reprString(s);
            case PyTuple tuple -> {
                StringBuilder out = new StringBuilder("(");
                for (int i = 0; i < tuple.size(); i++) {
                    out.append(i > 0 ? ", " : "").append(repr(tuple.get(i)));
                }
                yield out.append(tuple.size() == 1 ? ",)" : ")").toString();
            }
            case List<?> list -> {
                StringBuilder out = new StringBuilder("[");
                for (int i = 0; i < list.size(); i++) {
                    out.append(i > 0 ? ", " : "").append(repr(list.get(i)));
                }
                yield out.append(']').toString();
            }
            case Map<?, ?> map -> {
                StringBuilder out = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    out.append(first ? "" : ", ").append(repr(entry.getKey())).append(": ").append(repr(entry.getValue()));
                    first = false;
                }
                yield out.append('}').toString();
            }
            case null, default -> str(value);
        };
    }

    private static String reprString(String s) {
        char quote = s.contains("'") && !s.contains("\"") ? '"' : '\'';
        StringBuilder out = new StringBuilder().append(quote);
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == quote) {
                        out.append('\\').append((char) c);
                    } else if (c < 0x20 || c == 0x7F) {
                        out.append(String.format("\\x%02x", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.append(quote).toString();
    }

    /** Python's {@code repr(float)}: the shortest round-trip digits, scientific below 1e-4 and from 1e16. */
    static String formatFloat(double value) {
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0.0) {
            return 1 / value < 0 ? "-0.0" : "0.0";
        }
        BigDecimal decimal = new BigDecimal(Double.toString(value)).stripTrailingZeros();
        String digits = decimal.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - decimal.scale();
        String sign = value < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = decimal.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    /** Python's {@code ==}; numbers compare by value across int, float and bool. */
    static boolean equal(Object left, Object right) {
        if (isNumber(left) && isNumber(right)) {
            if (left instanceof Double || right instanceof Double) {
                return toDouble(left) == toDouble(right);
            }
            return toLong(left) == toLong(right);
        }
        if (left instanceof List<?> a && right instanceof List<?> b) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!equal(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (left instanceof Undefined || right instanceof Undefined) {
            return left instanceof Undefined && right instanceof Undefined;
        }
        return Objects.equals(left, right);
    }

    /** Python's ordering comparisons for numbers and strings (by code point); other pairs fail. */
    static int compare(Object left, Object right, String operator, int line) {
        if (isNumber(left) && isNumber(right)) {
            return Double.compare(toDouble(left), toDouble(right));
        }
        if (left instanceof String a && right instanceof String b) {
            return compareCodePoints(a, b);
        }
        throw new JinjaException("'" + operator + "' is not supported between " + typeName(left) + " and "
                + typeName(right), line);
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    static long toLong(Object value) {
        if (value instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) value).longValue();
    }

    static double toDouble(Object value) {
        if (value instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) value).doubleValue();
    }

    static String typeName(Object value) {
        return switch (value) {
            case null -> "None";
            case Undefined u -> "an undefined value";
            case String s -> "str";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case PyTuple tuple -> "tuple";
            case List<?> list -> "list";
            case Map<?, ?> map -> "dict";
            case Namespace ns -> "namespace";
            case JinjaCallable c -> "function";
            default -> value.getClass().getSimpleName();
        };
    }

    /** Fails when {@code value} is undefined, for the operations Jinja's Undefined does not allow. */
    static Object defined(Object value, int line) {
        if (value instanceof Undefined undefined) {
            throw new JinjaException(undefined.describe(), line);
        }
        return value;
    }

    /** Python's {@code len}; undefined values have length 0. */
    static long length(Object value, int line) {
        return switch (value) {
            case String s -> s.codePointCount(0, s.length());
            case List<?> list -> list.size();
            case Map<?, ?> map -> map.size();
            case Undefined u -> 0;
            default -> throw new JinjaException("object of type " + typeName(value) + " has no length", line);
        };
    }

    /** Returns the items a for loop visits: list items, dict keys or string characters, and none for undefined values. */
    static List<Object> iterate(Object value, int line) {
        return switch (value) {
            case List<?> list -> new ArrayList<>(list);
            case Map<?, ?> map -> new ArrayList<>(map.keySet());
            case String s -> {
                List<Object> characters = new ArrayList<>();
                s.codePoints().forEach(c -> characters.add(Character.toString(c)));
                yield characters;
            }
            case Undefined u -> List.of();
            default -> throw new JinjaException(typeName(value) + " object is not iterable", line);
        };
    }

    /** {@code value in container}. */
    static boolean contains(Object container, Object value, int line) {
        return switch (container) {
            case String s -> {
                if (!(value instanceof String needle)) {
                    throw new JinjaException("'in <string>' requires a string on the left, not " + typeName(value), line);
                }
                yield s.contains(needle);
            }
            case List<?> list -> list.stream().anyMatch(item -> equal(item, value));
            case Map<?, ?> map -> value instanceof String key && map.containsKey(key);
            case Undefined u -> false;
            default -> throw new JinjaException("argument of type " + typeName(container) + " is not iterable", line);
        };
    }

    /** {@code target[key]}: list and string indices (negative from the end), dict keys; missing ones are undefined. */
    static Object item(Object target, Object key, int line) {
        switch (target) {
            case List<?> list when isNumber(key) -> {
                long index = normalizeIndex(toLong(key), list.size());
                return index >= 0 && index < list.size() ? list.get((int) index) : new Undefined("list index " + key
                        + " is out of range for a list of " + list.size() + " items");
            }
            case String s when isNumber(key) -> {
                int[] codePoints = s.codePoints().toArray();
                long index = normalizeIndex(toLong(key), codePoints.length);
                return index >= 0 && index < codePoints.length ? Character.toString(codePoints[(int) index])
                        : new Undefined("string index " + key + " is out of range");
            }
            case Map<?, ?> map -> {
                if (key instanceof String name && map.containsKey(name)) {
                    return map.get(name);
                }
                return key instanceof String name ? PyMethods.dictMethod(map, name)
                        : new Undefined("dict object has no element " + repr(key));
            }
            case Namespace ns when key instanceof String name -> {
                return ns.has(name) ? ns.get(name) : new Undefined("namespace has no attribute '" + name + "'");
            }
            case LoopInfo loop when key instanceof String name -> {
                Object value = loop.attribute(name, line);
                return value != null ? value : new Undefined("loop has no attribute '" + name + "'");
            }
            case Undefined u -> throw new JinjaException(u.describe(), line);
            case null -> {
                return new Undefined("None has no element " + repr(key));
            }
            default -> {
                return new Undefined(typeName(target) + " object has no element " + repr(key));
            }
        }
    }

    /** {@code target.name}: methods of strings and dicts, then dict keys, namespace and loop attributes. */
    static Object attribute(Object target, String name, int line) {
        switch (target) {
            case Map<?, ?> map -> {
                Object method = PyMethods.dictMethod(map, name);
                if (!(method instanceof Undefined)) {
                    return method;
                }
                return map.containsKey(name) ? map.get(name) : new Undefined("dict object has no attribute '" + name + "'");
            }
            case String s -> {
                return PyMethods.stringMethod(s, name);
            }
            case Undefined u -> throw new JinjaException(u.describe() + ", so it has no attribute '" + name + "'", line);
            default -> {
                return item(target, name, line);
            }
        }
    }

    private static long normalizeIndex(long index, int size) {
        return index < 0 ? index + size : index;
    }

    /** Python slicing {@code target[start:stop:step]} of lists and strings; null bounds are absent. */
    static Object slice(Object target, Object start, Object stop, Object step, int line) {
        long stepValue = step == null ? 1 : toLong(step);
        if (stepValue == 0) {
            throw new JinjaException("slice step cannot be zero", line);
        }
        List<Object> source;
        boolean isString = target instanceof String;
        if (target instanceof String s) {
            source = iterate(s, line);
        } else if (target instanceof List<?> list) {
            source = new ArrayList<>(list);
        } else {
            throw new JinjaException(typeName(defined(target, line)) + " object cannot be sliced", line);
        }
        int size = source.size();

        long from;
        long to;
        if (stepValue > 0) {
            from = start == null ? 0 : clamp(normalizeIndex(toLong(start), size), 0, size);
            to = stop == null ? size : clamp(normalizeIndex(toLong(stop), size), 0, size);
        } else {
            from = start == null ? size - 1 : clamp(normalizeIndex(toLong(start), size), -1, size - 1);
            to = stop == null ? -1 : clamp(normalizeIndex(toLong(stop), size), -1, size - 1);
        }

        List<Object> result = new ArrayList<>();
        for (long i = from; stepValue > 0 ? i < to : i > to; i += stepValue) {
            result.add(source.get((int) i));
        }
        if (isString) {
            StringBuilder out = new StringBuilder();
            result.forEach(c -> out.append((String) c));
            return out.toString();
        }
        return result;
    }

    private static long clamp(long value, long min, long max) {
        return Math.max(min, Math.min(max, value));
    }
}
