package io.sparsemesh.core.tokenizer.chat.jinja;

import io.sparsemesh.core.tokenizer.chat.jinja.Token.Kind;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens, with the whitespace rules of the environment Hugging Face
 * renders chat templates in ({@code trim_blocks=True, lstrip_blocks=True}, no kept trailing newline):
 * <ul>
 *   <li>{@code {%-}, {@code {{-}, {@code {#-} remove all whitespace before the tag, and {@code -%}},
 *       {@code -}}}, {@code -#}} all whitespace after it;</li>
 *   <li>trim_blocks: the first newline after a block or comment tag is removed;</li>
 *   <li>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are
 *       removed ({@code {%+} keeps them);</li>
 *   <li>a single newline at the end of the template is dropped, and {@code \r\n} in text becomes {@code \n}.</li>
 * </ul>
 */
final class JinjaLexer {

    private static final List<String> OPERATORS = List.of(
            "**", "//", "==", "!=", "<=", ">=",
            "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "<", ">", "=");

    private final String source;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    private boolean stripNextText;

    private JinjaLexer(String source) {
        String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
        this.source = normalized.endsWith("\n") ? normalized.substring(0, normalized.length() - 1) : normalized;
    }

    static List<Token> tokenize(String source) {
        JinjaLexer lexer = new JinjaLexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        while (pos < source.length()) {
            int start = nextTagStart();
            if (start < 0) {
                emitText(source.substring(pos), false, (char) 0, '{');
                pos = source.length();
                break;
            }
            char kind = source.charAt(start + 1);
            char modifier = start + 2 < source.length() ? source.charAt(start + 2) : 0;
            boolean lineStarting = pos == 0 || source.charAt(pos - 1) == '\n';
            emitText(source.substring(pos, start), lineStarting, modifier, kind);
            pos = start + 2 + (modifier == '-' || modifier == '+' ? 1 : 0);
            switch (kind) {
                case '#' -> skipComment();
                case '{' -> lexTag(Kind.VARIABLE_BEGIN, Kind.VARIABLE_END, "}}");
                default -> lexTag(Kind.BLOCK_BEGIN, Kind.BLOCK_END, "%}");
            }
        }
        tokens.add(new Token(Kind.END, "", null, line));
    }

    private int nextTagStart() {
        int from = pos;
        while (true) {
            int open = source.indexOf('{', from);
            if (open < 0 || open + 1 >= source.length()) {
                return -1;
            }
            char next = source.charAt(open + 1);
            if (next == '{' || next == '%' || next == '#') {
                return open;
            }
            from = open + 1;
        }
    }

    /** Emits the text before a tag of {@code tagKind} after applying the whitespace rules. */
    private void emitText(String text, boolean lineStarting, char tagModifier, char tagKind) {
        int textLine = line;
        line += count(text, '\n');
        if (stripNextText) {
            text = text.stripLeading();
            stripNextText = false;
        }
        if (tagModifier == '-') {
            text = text.stripTrailing();
        } else if (tagModifier != '+' && tagKind != '{') {
            int lineStart = text.lastIndexOf('\n') + 1;
            if ((lineStart > 0 || lineStarting) && isBlank(text, lineStart)) {
                text = text.substring(0, lineStart);
            }
        }
        if (!text.isEmpty()) {
            tokens.add(new Token(Kind.TEXT, text, text, textLine));
        }
    }

    private static boolean isBlank(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            if (!Character.isWhitespace(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private void skipComment() {
        int end = source.indexOf("#}", pos);
        if (end < 0) {
            throw new JinjaException("unclosed comment: '{#' has no matching '#}'", line);
        }
        char modifier = source.charAt(end - 1);
        line += count(source.substring(pos, end), '\n');
        pos = end + 2;
        afterTagEnd(modifier);
    }

    private void afterTagEnd(char modifier) {
        if (modifier == '-') {
            stripNextText = true;
        } else if (modifier != '+' && pos < source.length() && source.charAt(pos) == '\n') {
            pos++;
            line++;
        }
    }

    private void lexTag(Kind begin, Kind end, String closing) {
        tokens.add(new Token(begin, begin == Kind.BLOCK_BEGIN ? "{%" : "{{", null, line));
        int depth = 0;
        while (true) {
            skipWhitespace();
            if (pos >= source.length()) {
                throw new JinjaException("unclosed tag: expected '" + closing + "'", line);
            }
            if (depth == 0) {
                char first = source.charAt(pos);
                boolean modified = (first == '-' || first == '+') && source.startsWith(closing, pos + 1);
                if (modified || source.startsWith(closing, pos)) {
                    pos += closing.length() + (modified ? 1 : 0);
                    tokens.add(new Token(end, closing, null, line));
                    if (end == Kind.BLOCK_END) {
                        afterTagEnd(modified ? first : 0);
                    } else if (modified && first == '-') {
                        stripNextText = true;
                    }
                    return;
                }
            }
            Token token = nextToken();
            if (token.kind() == Kind.OPERATOR) {
                switch (token.text()) {
                    case "(", "[", "{" -> depth++;
                    case ")", "]", "}" -> depth = Math.max(0, depth - 1);
                    default -> { }
                }
            }
            tokens.add(token);
        }
    }

    private void skipWhitespace() {
        while (pos < source.length() && Character.isWhitespace(source.charAt(pos))) {
            if (source.charAt(pos) == '\n') {
                line++;
            }
            pos++;
        }
    }

    private Token nextToken() {
        char c = source.charAt(pos);
        if (Character.isLetter(c) || c == '_') {
            int start = pos;
            while (pos < source.length() && (Character.isLetterOrDigit(source.charAt(pos)) || source.charAt(pos) == '_')) {
                pos++;
            }
            String name = source.substring(start, pos);
            return new Token(Kind.NAME, name, name, line);
        }
        if (Character.isDigit(c)) {
            return number();
        }
        if (c == '\'' || c == '"') {
            return string(c);
        }
        for (String operator : OPERATORS) {
            if (source.startsWith(operator, pos)) {
                pos += operator.length();
                return new Token(Kind.OPERATOR, operator, null, line);
            }
        }
        throw new JinjaException("unexpected character '" + c + "' in a tag", line);
    }

    private Token number() {
        int start = pos;
        boolean isFloat = false;
        skipDigits();
        if (pos + 1 < source.length() && source.charAt(pos) == '.' && Character.isDigit(source.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            skipDigits();
        }
        if (pos < source.length() && (source.charAt(pos) == 'e' || source.charAt(pos) == 'E')) {
            int exponent = pos + 1;
            if (exponent < source.length() && (source.charAt(exponent) == '+' || source.charAt(exponent) == '-')) {
                exponent++;
            }
            if (exponent < source.length() && Character.isDigit(source.charAt(exponent))) {
                isFloat = true;
                pos = exponent;
                skipDigits();
            }
        }
        String text = source.substring(start, pos);
        String digits = text.replace("_", "");
        return isFloat
                ? new Token(Kind.FLOAT, text, Double.parseDouble(digits), line)
                : new Token(Kind.INTEGER, text, Long.parseLong(digits), line);
    }

    private void skipDigits() {
        while (pos < source.length() && (Character.isDigit(source.charAt(pos)) || source.charAt(pos) == '_')) {
            pos++;
        }
    }

    /** Lexes a quoted string literal with Python's escape sequences; unknown escapes keep their backslash. */
    private Token string(char quote) {
        int startLine = line;
        int start = pos;
        StringBuilder value = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= source.length()) {
                throw new JinjaException("unclosed string literal", startLine);
            }
            char c = source.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\' || pos >= source.length()) {
                value.append(c);
                continue;
            }
            char escaped = source.charAt(pos++);
            switch (escaped) {
                case 'n' -> value.append('\n');
                case 't' -> value.append('\t');
                case 'r' -> value.append('\r');
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'v' -> value.append('\u000B');
                case 'a' -> value.append('\u0007');
                case '0' -> value.append('\0');
                case '\\', '\'', '"' -> value.append(escaped);
                case '\n' -> line++;
                case 'x' -> value.appendCodePoint(hexEscape(2, startLine));
                case 'u' -> value.appendCodePoint(hexEscape(4, startLine));
                case 'U' -> value.appendCodePoint(hexEscape(8, startLine));
                default -> value.append('\\').append(escaped);
            }
        }
        return new Token(Kind.STRING, source.substring(start, pos), value.toString(), startLine);
    }

    private int hexEscape(int digits, int startLine) {
        if (pos + digits > source.length()) {
            throw new JinjaException("truncated \\x, \\u or \\U escape in a string literal", startLine);
        }
        try {
            int codePoint = Integer.parseInt(source.substring(pos, pos + digits), 16);
            pos += digits;
            return codePoint;
        } catch (NumberFormatException e) {
            throw new JinjaException("invalid hexadecimal escape '" + source.substring(pos, pos + digits)
                    + "' in a string literal", startLine);
        }
    }

    private static int count(String text, char c) {
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == c) {
                n++;
            }
        }
        return n;
    }
}
