package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The filters chat templates use, with Jinja2's semantics except {@code tojson}, which follows the
 * filter Hugging Face installs: {@code tojson(ensure_ascii=False, indent=None, separators=None,
 * sort_keys=False)} over Python's {@code json.dumps}, without HTML escaping.
 */
final class JinjaFilters {

    private static final Set<String> NAMES = Set.of(
            "trim", "length", "count", "tojson", "string", "int", "float", "lower", "upper", "title", "capitalize",
            "default", "d", "join", "first", "last", "list", "reverse", "replace", "items", "map", "select",
            "reject", "selectattr", "rejectattr", "safe", "escape", "e", "abs", "unique", "sort", "min", "max", "sum");

    private static final Object MISSING = new Object();

    private JinjaFilters() {
    }

    static boolean supports(String name) {
        return NAMES.contains(name);
    }

    /** Applies filter {@code name} to {@code value}; positional and keyword arguments bind as in Python. */
    static Object apply(String name, Object value, List<Object> positional, Map<String, Object> keywords, int line) {
        switch (name) {
            case "trim" -> {
                Object[] a = bind(name, positional, keywords, line, "chars");
                return PyMethods.strip(PyValues.str(value), a[0] == MISSING || a[0] == null ? null : PyValues.str(a[0]),
                        true, true);
            }
            case "length", "count" -> {
                return PyValues.length(value, line);
            }
            case "tojson" -> {
                return tojson(value, positional, keywords, line);
            }
            case "string" -> {
                return PyValues.str(value);
            }
            case "int" -> {
                Object[] a = bind(name, positional, keywords, line, "default", "base");
                return toInt(value, a[0] == MISSING ? 0L : a[0]);
            }
            case "float" -> {
                Object[] a = bind(name, positional, keywords, line, "default");
                return toFloat(value, a[0] == MISSING ? 0.0 : a[0]);
            }
            case "lower" -> {
                return PyValues.str(value).toLowerCase(java.util.Locale.ROOT);
            }
            case "upper" -> {
                return PyValues.str(value).toUpperCase(java.util.Locale.ROOT);
            }
            case "title" -> {
                return PyMethods.title(PyValues.str(value));
            }
            case "capitalize" -> {
                return PyMethods.capitalize(PyValues.str(value));
            }
            case "default", "d" -> {
                Object[] a = bind(name, positional, keywords, line, "default_value", "boolean");
                Object fallback = a[0] == MISSING ? "" : a[0];
                boolean byTruth = a[1] != MISSING && PyValues.truthy(a[1]);
                return value instanceof Undefined || (byTruth && !PyValues.truthy(value)) ? fallback : value;
            }
            case "join" -> {
                Object[] a = bind(name, positional, keywords, line, "d", "attribute");
                String separator = a[0] == MISSING ? "" : PyValues.str(a[0]);
                List<String> parts = new ArrayList<>();
                for (Object item : PyValues.iterate(value, line)) {
                    parts.add(PyValues.str(a[1] == MISSING ? item : attributePath(item, a[1], line)));
                }
                return String.join(separator, parts);
            }
            case "first" -> {
                List<Object> items = PyValues.iterate(value, line);
                return items.isEmpty() ? new Undefined("no first item, the sequence is empty") : items.getFirst();
            }
            case "last" -> {
                List<Object> items = PyValues.iterate(value, line);
                return items.isEmpty() ? new Undefined("no last item, the sequence is empty") : items.getLast();
            }
            case "list" -> {
                return PyValues.iterate(value, line);
            }
            case "reverse" -> {
                if (value instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> items = PyValues.iterate(value, line);
                Collections.reverse(items);
                return items;
            }
            case "replace" -> {
                Object[] a = bind(name, positional, keywords, line, "old", "new", "count");
                if (a[0] == MISSING || a[1] == MISSING) {
                    throw new JinjaException("filter 'replace' needs the old and the new string", line);
                }
                long count = a[2] == MISSING || a[2] == null ? -1 : PyValues.toLong(a[2]);
                return PyMethods.replace(PyValues.str(value), PyValues.str(a[0]), PyValues.str(a[1]), count);
            }
            case "items" -> {
                if (value instanceof Undefined) {
                    return List.of();
                }
                if (!(value instanceof Map<?, ?> map)) {
                    throw new JinjaException("filter 'items' needs a dict, not " + PyValues.typeName(value), line);
                }
                return ((JinjaCallable) PyMethods.dictMethod(map, "items")).call(List.of(), Map.of(), line);
            }
            case "map" -> {
                return map(value, positional, keywords, line);
            }
            case "select", "reject" -> {
                return select(value, null, positional, name.equals("select"), line);
            }
            case "selectattr", "rejectattr" -> {
                if (positional.isEmpty()) {
                    throw new JinjaException("filter '" + name + "' needs an attribute name", line);
                }
                return select(value, positional.getFirst(), positional.subList(1, positional.size()),
                        name.equals("selectattr"), line);
            }
            case "safe" -> {
                return value;
            }
            case "escape", "e" -> {
                return PyValues.str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                        .replace("\"", "&#34;").replace("'", "&#39;");
            }
            case "abs" -> {
                Object number = PyValues.defined(value, line);
                if (number instanceof Double d) {
                    return Math.abs(d);
                }
                return Math.abs(PyValues.toLong(number));
            }
            case "unique" -> {
                List<Object> unique = new ArrayList<>();
                for (Object item : PyValues.iterate(value, line)) {
                    if (unique.stream().noneMatch(seen -> PyValues.equal(seen, item))) {
                        unique.add(item);
                    }
                }
                return unique;
            }
            case "sort" -> {
                Object[] a = bind(name, positional, keywords, line, "reverse", "case_sensitive", "attribute");
                List<Object> items = PyValues.iterate(value, line);
                Object attribute = a[2];
                items.sort((x, y) -> PyValues.compare(attribute == MISSING ? x : attributePath(x, attribute, line),
                        attribute == MISSING ? y : attributePath(y, attribute, line), "<", line));
                if (a[0] != MISSING && PyValues.truthy(a[0])) {
                    Collections.reverse(items);
                }
                return items;
            }
            case "min", "max" -> {
                List<Object> items = PyValues.iterate(value, line);
                if (items.isEmpty()) {
                    return new Undefined("no " + name + " item, the sequence is empty");
                }
                Object best = items.getFirst();
                for (Object item : items) {
                    int order = PyValues.compare(item, best, "<", line);
                    if (name.equals("min") ? order < 0 : order > 0) {
                        best = item;
                    }
                }
                return best;
            }
            case "sum" -> {
                Object total = 0L;
                for (Object item : PyValues.iterate(value, line)) {
                    total = JinjaRenderer.arithmetic("+", total, item, line);
                }
                return total;
            }
            default -> throw new JinjaException("unknown filter '" + name + "'", line);
        }
    }

    private static Object tojson(Object value, List<Object> positional, Map<String, Object> keywords, int line) {
        Object[] a = bind("tojson", positional, keywords, line, "ensure_ascii", "indent", "separators", "sort_keys");
        boolean ensureAscii = a[0] != MISSING && PyValues.truthy(a[0]);
        String indent = switch (a[1]) {
            case Long spaces -> " ".repeat(spaces.intValue());
            case String text -> text;
            case null -> null;
            default -> a[1] == MISSING ? null : " ".repeat((int) PyValues.toLong(a[1]));
        };
        List<String> separators = null;
        if (a[2] != MISSING && a[2] != null) {
            List<Object> pair = PyValues.iterate(a[2], line);
            if (pair.size() != 2) {
                throw new JinjaException("tojson separators must be a pair (item separator, key separator)", line);
            }
            separators = List.of(PyValues.str(pair.get(0)), PyValues.str(pair.get(1)));
        }
        boolean sortKeys = a[3] != MISSING && PyValues.truthy(a[3]);
        return PyJson.dumps(value, PyJson.Options.of(ensureAscii, indent, separators, sortKeys), line);
    }

    private static Object map(Object value, List<Object> positional, Map<String, Object> keywords, int line) {
        List<Object> mapped = new ArrayList<>();
        if (keywords.containsKey("attribute")) {
            Object fallback = keywords.getOrDefault("default", MISSING);
            for (Object item : PyValues.iterate(value, line)) {
                Object result = attributePath(item, keywords.get("attribute"), line);
                mapped.add(result instanceof Undefined && fallback != MISSING ? fallback : result);
            }
            return mapped;
        }
        if (positional.isEmpty() || !(positional.getFirst() instanceof String filter) || !supports(filter)) {
            throw new JinjaException("filter 'map' needs attribute=... or the name of a filter", line);
        }
        Map<String, Object> filterKeywords = new LinkedHashMap<>(keywords);
        for (Object item : PyValues.iterate(value, line)) {
            mapped.add(apply(filter, item, positional.subList(1, positional.size()), filterKeywords, line));
        }
        return mapped;
    }

    /** {@code select}/{@code reject} ({@code attribute} null) and {@code selectattr}/{@code rejectattr}. */
    private static Object select(Object value, Object attribute, List<Object> testArguments, boolean keep, int line) {
        String test = testArguments.isEmpty() ? null : PyValues.str(testArguments.getFirst());
        if (test != null && !JinjaTests.supports(test)) {
            throw new JinjaException("unknown test '" + test + "'", line);
        }
        List<Object> rest = testArguments.isEmpty() ? List.of() : testArguments.subList(1, testArguments.size());
        List<Object> selected = new ArrayList<>();
        for (Object item : PyValues.iterate(value, line)) {
            Object subject = attribute == null ? item : attributePath(item, attribute, line);
            boolean passes = test == null ? PyValues.truthy(subject) : JinjaTests.test(test, subject, rest, line);
            if (passes == keep) {
                selected.add(item);
            }
        }
        return selected;
    }

    /** Looks up a dotted attribute path such as {@code "function.name"} in {@code item}, item first. */
    private static Object attributePath(Object item, Object path, int line) {
        Object current = item;
        for (String part : PyValues.str(path).split("\\.")) {
            if (current instanceof Undefined) {
                return current;
            }
            current = part.chars().allMatch(Character::isDigit) && current instanceof List<?>
                    ? PyValues.item(current, Long.parseLong(part), line)
                    : PyValues.item(current, part, line);
        }
        return current;
    }

    private static Object toInt(Object value, Object fallback) {
        return switch (value) {
            case Long l -> l;
            case Double d -> (long) d.doubleValue();
            case Boolean b -> b ? 1L : 0L;
            case String s -> {
                try {
                    yield Long.parseLong(s.strip().replace("_", ""));
                } catch (NumberFormatException e) {
                    try {
                        yield (long) Double.parseDouble(s.strip());
                    } catch (NumberFormatException notFloat) {
                        yield fallback;
                    }
                }
            }
            case null, default -> fallback;
        };
    }

    private static Object toFloat(Object value, Object fallback) {
        return switch (value) {
            case Long l -> (double) l;
            case Double d -> d;
            case Boolean b -> b ? 1.0 : 0.0;
            case String s -> {
                try {
                    yield Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    yield fallback;
                }
            }
            case null, default -> fallback;
        };
    }

    /** Binds arguments to {@code names} as Python does; unbound ones are {@link #MISSING}. */
    private static Object[] bind(String filter, List<Object> positional, Map<String, Object> keywords, int line,
                                 String... names) {
        if (positional.size() > names.length) {
            throw new JinjaException("filter '" + filter + "' takes at most " + names.length + " arguments, got "
                    + positional.size(), line);
        }
        Object[] bound = new Object[names.length];
        java.util.Arrays.fill(bound, MISSING);
        for (int i = 0; i < positional.size(); i++) {
            bound[i] = positional.get(i);
        }
        keywords.forEach((key, keywordValue) -> {
            int position = List.of(names).indexOf(key);
            if (position < 0) {
                throw new JinjaException("filter '" + filter + "' has no argument '" + key + "'", line);
            }
            bound[position] = keywordValue;
        });
        return bound;
    }
}
