package dev.kiln.frontend.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The subset of JSON a safetensors header uses: objects (as insertion-ordered maps), arrays,
 * strings with all JSON escapes, and integers (as {@link Long}). Anything else, including
 * fractions, {@code true}/{@code null} and duplicate keys, is a syntax error, because a header
 * that contains them is malformed anyway and accepting it would only move the error later.
 */
final class JsonLite {
    /** Deep enough for any real header (which nests three levels) while a hostile one cannot overflow the stack. */
    static final int MAX_DEPTH = 64;

    /** A syntax error at a character index of the parsed text. */
    static final class SyntaxException extends Exception {
        final int position;

        SyntaxException(int position, String message) {
            super(message);
            this.position = position;
        }
    }

    private final String text;
    private int pos;

    private JsonLite(String text) { this.text = text; }

    /** Parses one value that must span the whole text, apart from surrounding whitespace. */
    static Object parse(String text) throws SyntaxException {
        JsonLite p = new JsonLite(text);
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.error("unexpected " + p.describe() + " after the value");
        return v;
    }

    private Object value(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        skipWhitespace();
        if (pos >= text.length()) throw error("unexpected end of text, expected a value");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield integer();
                throw error("unexpected " + describe() + ", expected an object, array, string or integer");
            }
        };
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') { pos++; return map; }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("expected a string key, found " + describe());
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            Object v = value(depth + 1);
            if (map.putIfAbsent(key, v) != null) throw new SyntaxException(keyAt, "duplicate key \"" + key + "\"");
            skipWhitespace();
            if (peek() == ',') { pos++; continue; }
            expect('}');
            return map;
        }
    }

    private List<Object> array(int depth) throws SyntaxException {
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') { pos++; return list; }
        while (true) {
            list.add(value(depth + 1));
            skipWhitespace();
            if (peek() == ',') { pos++; continue; }
            expect(']');
            return list;
        }
    }

    private String string() throws SyntaxException {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos++);
            if (c == '"') return b.toString();
            if (c < 0x20) { pos--; throw error("raw control character U+" + hex4(c) + " in string"); }
            if (c != '\\') { b.append(c); continue; }
            if (pos >= text.length()) throw error("unterminated escape");
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                // Surrogate pairs arrive as two \\u escapes and recombine by simply appending both halves.
                case 'u' -> b.append(unicodeEscape());
                default -> { pos--; throw error("invalid escape \\" + e); }
            }
        }
    }

    private char unicodeEscape() throws SyntaxException {
        if (pos + 4 > text.length()) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0) throw error("invalid hex digit in \\u escape");
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private Long integer() throws SyntaxException {
        int start = pos;
        boolean negative = peek() == '-';
        if (negative) pos++;
        if (pos >= text.length() || !isDigit(text.charAt(pos))) throw error("expected a digit");
        if (text.charAt(pos) == '0' && pos + 1 < text.length() && isDigit(text.charAt(pos + 1)))
            throw error("leading zero in number");
        long v = 0;
        while (pos < text.length() && isDigit(text.charAt(pos))) {
            int d = text.charAt(pos) - '0';
            // Accumulate negatively so that Long.MIN_VALUE parses and overflow is caught in one place.
            if (v < (Long.MIN_VALUE + d) / 10) throw new SyntaxException(start, "integer out of 64-bit range");
            v = v * 10 - d;
            pos++;
        }
        if (pos < text.length() && (text.charAt(pos) == '.' || text.charAt(pos) == 'e' || text.charAt(pos) == 'E'))
            throw error("only integers are allowed here");
        if (!negative) {
            if (v == Long.MIN_VALUE) throw new SyntaxException(start, "integer out of 64-bit range");
            v = -v;
        }
        return v;
    }

    /** JSON text for a string, with quotes and the escapes JSON requires. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> { if (c < 0x20) b.append("\\u").append(hex4(c)); else b.append(c); }
            }
        }
        return b.append('"').toString();
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) throw error("expected '" + c + "', found " + describe());
        pos++;
    }

    private char peek() { return pos < text.length() ? text.charAt(pos) : '\0'; }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private String describe() {
        if (pos >= text.length()) return "end of text";
        char c = text.charAt(pos);
        return c < 0x20 || c > 0x7e ? "character U+" + hex4(c) : "'" + c + "'";
    }

    private SyntaxException error(String message) { return new SyntaxException(pos, message); }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    private static String hex4(char c) { return String.format("%04X", (int) c); }
}
