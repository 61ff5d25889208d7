package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The Python methods of {@code str} and {@code dict} that chat templates call, such as
 * {@code content.split('</think>')[-1].strip()} and {@code arguments.items()}. Dicts and lists are
 * read-only, as in the immutable sandbox Hugging Face renders templates in.
 */
final class PyMethods {

    private PyMethods() {
    }

    /** Returns method {@code name} bound to {@code map}, or an undefined value when dicts have no such method. */
    static Object dictMethod(Map<?, ?> map, String name) {
        return switch (name) {
            case "items" -> (JinjaCallable) (arguments, keywords, line) -> {
                List<Object> items = new ArrayList<>(map.size());
                map.forEach((key, value) -> items.add(new PyTuple(Arrays.asList(key, value))));
                return items;
            };
            case "keys" -> (JinjaCallable) (arguments, keywords, line) -> new ArrayList<Object>(map.keySet());
            case "values" -> (JinjaCallable) (arguments, keywords, line) -> new ArrayList<Object>(map.values());
            case "get" -> (JinjaCallable) (arguments, keywords, line) -> {
                Object key = argument(arguments, 0, "key", line);
                Object fallback = arguments.size() > 1 ? arguments.get(1) : null;
                return key instanceof String k && map.containsKey(k) ? map.get(k) : fallback;
            };
            default -> new Undefined("dict object has no attribute '" + name + "'");
        };
    }

    /** Returns method {@code name} bound to {@code s}, or an undefined value when strings have no such method. */
    static Object stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (JinjaCallable) (arguments, keywords, line) -> strip(s, optionalChars(arguments, line), true, true);
            case "lstrip" -> (JinjaCallable) (arguments, keywords, line) -> strip(s, optionalChars(arguments, line), true, false);
            case "rstrip" -> (JinjaCallable) (arguments, keywords, line) -> strip(s, optionalChars(arguments, line), false, true);
            case "split" -> (JinjaCallable) (arguments, keywords, line) -> split(s, separator(arguments, keywords, line),
                    maxSplit(arguments, keywords, line));
            case "rsplit" -> (JinjaCallable) (arguments, keywords, line) -> rsplit(s, separator(arguments, keywords, line),
                    maxSplit(arguments, keywords, line));
            case "splitlines" -> (JinjaCallable) (arguments, keywords, line) -> new ArrayList<Object>(s.lines().toList());
            case "startswith" -> (JinjaCallable) (arguments, keywords, line) ->
                    matchesAffix(s, argument(arguments, 0, "prefix", line), true, line);
            case "endswith" -> (JinjaCallable) (arguments, keywords, line) ->
                    matchesAffix(s, argument(arguments, 0, "suffix", line), false, line);
            case "upper" -> (JinjaCallable) (arguments, keywords, line) -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> (JinjaCallable) (arguments, keywords, line) -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> (JinjaCallable) (arguments, keywords, line) -> title(s);
            case "capitalize" -> (JinjaCallable) (arguments, keywords, line) -> capitalize(s);
            case "replace" -> (JinjaCallable) (arguments, keywords, line) -> replace(s,
                    stringArgument(arguments, 0, "old", line), stringArgument(arguments, 1, "new", line),
                    arguments.size() > 2 ? PyValues.toLong(arguments.get(2)) : -1);
            case "find" -> (JinjaCallable) (arguments, keywords, line) -> codePointIndex(s,
                    s.indexOf(stringArgument(arguments, 0, "sub", line)));
            case "rfind" -> (JinjaCallable) (arguments, keywords, line) -> codePointIndex(s,
                    s.lastIndexOf(stringArgument(arguments, 0, "sub", line)));
            case "count" -> (JinjaCallable) (arguments, keywords, line) -> count(s, stringArgument(arguments, 0, "sub", line));
            case "join" -> (JinjaCallable) (arguments, keywords, line) -> {
                List<String> parts = new ArrayList<>();
                for (Object item : PyValues.iterate(argument(arguments, 0, "iterable", line), line)) {
                    parts.add(PyValues.str(item));
                }
                return String.join(s, parts);
            };
            case "isdigit" -> (JinjaCallable) (arguments, keywords, line) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> (JinjaCallable) (arguments, keywords, line) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isspace" -> (JinjaCallable) (arguments, keywords, line) -> !s.isEmpty() && s.codePoints().allMatch(PyMethods::isSpace);
            default -> new Undefined("str object has no attribute '" + name + "'");
        };
    }

    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** Python's {@code strip}: whitespace by default, else any of the characters in {@code chars}. */
    static String strip(String s, String chars, boolean leading, boolean trailing) {
        int start = 0;
        int end = s.length();
        while (leading && start < end && isStripped(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (trailing && end > start && isStripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean isStripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(Character.toString(c)) >= 0;
    }

    /** Python's {@code split}: runs of whitespace when {@code separator} is null, else every occurrence. */
    static List<Object> split(String s, String separator, long maxSplit) {
        List<Object> parts = new ArrayList<>();
        if (separator == null) {
            int i = 0;
            while (i < s.length()) {
                while (i < s.length() && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i >= s.length()) {
                    break;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(strip(s.substring(i), null, false, true));
                    return parts;
                }
                int start = i;
                while (i < s.length() && !isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                parts.add(s.substring(start, i));
            }
            return parts;
        }
        int start = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int found = s.indexOf(separator, start);
            if (found < 0) {
                break;
            }
            parts.add(s.substring(start, found));
            start = found + separator.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** Python's {@code rsplit}: as {@link #split}, but at most {@code maxSplit} splits taken from the right. */
    static List<Object> rsplit(String s, String separator, long maxSplit) {
        if (maxSplit < 0 || separator == null) {
            return split(s, separator, maxSplit);
        }
        List<Object> parts = new ArrayList<>();
        int end = s.length();
        while (parts.size() < maxSplit) {
            int found = s.lastIndexOf(separator, end - separator.length());
            if (found < 0 || end - separator.length() < 0) {
                break;
            }
            parts.addFirst(s.substring(found + separator.length(), end));
            end = found;
        }
        parts.addFirst(s.substring(0, end));
        return parts;
    }

    private static boolean matchesAffix(String s, Object affix, boolean prefix, int line) {
        if (affix instanceof List<?> choices) {
            for (Object choice : choices) {
                if (matchesAffix(s, choice, prefix, line)) {
                    return true;
                }
            }
            return false;
        }
        if (!(affix instanceof String text)) {
            throw new JinjaException((prefix ? "startswith" : "endswith") + " needs a string or a tuple of strings, not "
                    + PyValues.typeName(affix), line);
        }
        return prefix ? s.startsWith(text) : s.endsWith(text);
    }

    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (!cased) {
                out.appendCodePoint(c);
            } else if (previousCased) {
                out.appendCodePoint(Character.toLowerCase(c));
            } else {
                out.appendCodePoint(Character.toTitleCase(c));
            }
            previousCased = cased;
            i += Character.charCount(c);
        }
        return out.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return Character.toString(Character.toTitleCase(first))
                + s.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT);
    }

    static String replace(String s, String old, String replacement, long maxCount) {
        if (maxCount < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        int start = 0;
        for (long n = 0; n < maxCount; n++) {
            int found = s.indexOf(old, start);
            if (found < 0) {
                break;
            }
            out.append(s, start, found).append(replacement);
            start = found + old.length();
            if (old.isEmpty()) {
                if (start >= s.length()) {
                    break;
                }
                out.append(s.charAt(start));
                start++;
            }
        }
        return out.append(s.substring(start)).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        for (int found = s.indexOf(sub); found >= 0; found = s.indexOf(sub, found + sub.length())) {
            n++;
        }
        return n;
    }

    private static long codePointIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }

    private static String optionalChars(List<Object> arguments, int line) {
        if (arguments.isEmpty() || arguments.getFirst() == null) {
            return null;
        }
        return stringArgument(arguments, 0, "chars", line);
    }

    private static String separator(List<Object> arguments, Map<String, Object> keywords, int line) {
        Object separator = !arguments.isEmpty() ? arguments.getFirst() : keywords.get("sep");
        if (separator == null) {
            return null;
        }
        if (!(separator instanceof String text) || text.isEmpty()) {
            throw new JinjaException("split needs a non-empty string separator or None, not " + PyValues.repr(separator), line);
        }
        return text;
    }

    private static long maxSplit(List<Object> arguments, Map<String, Object> keywords, int line) {
        Object maxSplit = arguments.size() > 1 ? arguments.get(1) : keywords.getOrDefault("maxsplit", -1L);
        if (!PyValues.isNumber(maxSplit)) {
            throw new JinjaException("maxsplit must be an integer, not " + PyValues.typeName(maxSplit), line);
        }
        return PyValues.toLong(maxSplit);
    }

    static Object argument(List<Object> arguments, int position, String name, int line) {
        if (arguments.size() <= position) {
            throw new JinjaException("missing argument '" + name + "'", line);
        }
        return arguments.get(position);
    }

    static String stringArgument(List<Object> arguments, int position, String name, int line) {
        Object value = argument(arguments, position, name, line);
        if (!(value instanceof String text)) {
            throw new JinjaException("argument '" + name + "' must be a string, not " + PyValues.typeName(value), line);
        }
        return text;
    }
}
