package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Jinja2's global functions that chat templates call: {@code range}, {@code namespace} and {@code dict}. */
final class JinjaGlobals {

    /** Longest list {@code range} builds, so a template cannot allocate without bound. */
    static final long MAX_RANGE_LENGTH = 100_000;

    private JinjaGlobals() {
    }

    static Map<String, Object> functions() {
        Map<String, Object> functions = new LinkedHashMap<>();
        functions.put("range", (JinjaCallable) JinjaGlobals::range);
        functions.put("namespace", (JinjaCallable) (arguments, keywords, line) -> {
            Map<String, Object> initial = new LinkedHashMap<>();
            for (Object argument : arguments) {
                if (!(argument instanceof Map<?, ?> map)) {
                    throw new JinjaException("namespace takes a dict or keyword arguments, not "
                            + PyValues.typeName(argument), line);
                }
                map.forEach((key, value) -> initial.put(String.valueOf(key), value));
            }
            initial.putAll(keywords);
            return new Namespace(initial);
        });
        functions.put("dict", (JinjaCallable) (arguments, keywords, line) -> new LinkedHashMap<>(keywords));
        return functions;
    }

    private static Object range(List<Object> arguments, Map<String, Object> keywords, int line) {
        if (arguments.isEmpty() || arguments.size() > 3 || !arguments.stream().allMatch(PyValues::isNumber)) {
            throw new JinjaException("range takes one to three integers, got " + arguments, line);
        }
        long start = arguments.size() > 1 ? PyValues.toLong(arguments.get(0)) : 0;
        long stop = PyValues.toLong(arguments.get(arguments.size() > 1 ? 1 : 0));
        long step = arguments.size() > 2 ? PyValues.toLong(arguments.get(2)) : 1;
        if (step == 0) {
            throw new JinjaException("range step cannot be zero", line);
        }
        long length = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        if (length > MAX_RANGE_LENGTH) {
            throw new JinjaException("range of " + length + " items exceeds the limit of " + MAX_RANGE_LENGTH, line);
        }
        List<Object> values = new ArrayList<>((int) length);
        for (long i = 0; i < length; i++) {
            values.add(start + i * step);
        }
        return values;
    }
}
