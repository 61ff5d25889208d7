package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, which Hugging Face's {@code tojson} filter calls: separators
 * {@code ", "} and {@code ": "} (or {@code ","} between items when indenting), floats in Python's
 * repr, and {@code ensure_ascii} escaping of every character outside space to tilde.
 */
final class PyJson {

    /** Options of {@code json.dumps}; {@code indent} is null for one line, {@code separators} null for the defaults. */
    record Options(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {

        static Options of(boolean ensureAscii, String indent, List<String> separators, boolean sortKeys) {
            String item = separators != null ? separators.get(0) : indent != null ? "," : ", ";
            String key = separators != null ? separators.get(1) : ": ";
            return new Options(ensureAscii, indent, item, key, sortKeys);
        }
    }

    private PyJson() {
    }

    static String dumps(Object value, Options options, int line) {
        StringBuilder out = new StringBuilder();
        write(value, options, 0, out, line);
        return out.toString();
    }

    private static void write(Object value, Options options, int depth, StringBuilder out, int line) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Long l -> out.append(l);
            case Double d -> out.append(Double.isNaN(d) ? "NaN"
                    : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyValues.formatFloat(d));
            case String s -> writeString(s, options.ensureAscii(), out);
            case List<?> list -> writeContainer('[', ']', new ArrayList<Object>(list), null, options, depth, out, line);
            case Map<?, ?> map -> {
                List<Object> keys = new ArrayList<>(map.keySet());
                if (options.sortKeys()) {
                    keys.sort((a, b) -> PyValues.compare(a, b, "<", line));
                }
                writeContainer('{', '}', keys, map, options, depth, out, line);
            }
            default -> throw new JinjaException("tojson cannot serialize " + PyValues.typeName(value), line);
        }
    }

    /** Writes a list ({@code map} null, {@code items} the values) or a dict ({@code items} its keys). */
    private static void writeContainer(char open, char close, List<Object> items, Map<?, ?> map, Options options,
                                       int depth, StringBuilder out, int line) {
        out.append(open);
        if (items.isEmpty()) {
            out.append(close);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            out.append(i > 0 ? options.itemSeparator() : "");
            newline(options, depth + 1, out);
            Object item = items.get(i);
            if (map != null) {
                writeString(PyValues.str(item), options.ensureAscii(), out);
                out.append(options.keySeparator());
                write(map.get(item), options, depth + 1, out, line);
            } else {
                write(item, options, depth + 1, out, line);
            }
        }
        newline(options, depth, out);
        out.append(close);
    }

    private static void newline(Options options, int depth, StringBuilder out) {
        if (options.indent() != null) {
            out.append('\n').append(options.indent().repeat(depth));
        }
    }

    private static void writeString(String s, boolean ensureAscii, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7E)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
