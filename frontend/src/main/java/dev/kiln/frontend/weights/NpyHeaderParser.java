package dev.kiln.frontend.weights;

import dev.kiln.ir.MalformedFileException;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the Python dict literal in an npy header, e.g.
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Only the literals
 * NumPy writes there are understood: quoted strings without escapes, True/False, integers
 * (with Python 2's optional {@code L} suffix) and tuples of integers.
 */
final class NpyHeaderParser {
    private final String text;
    private final int byteOffset;
    private final Charset charset;
    private final String sourceName;
    private int pos;

    /** {@code byteOffset} is where the header starts in the file; {@code charset} how it was decoded. */
    NpyHeaderParser(String text, int byteOffset, Charset charset, String sourceName) {
        this.text = text;
        this.byteOffset = byteOffset;
        this.charset = charset;
        this.sourceName = sourceName;
    }

    Npy.NpyHeader parse() {
        Map<String, Object> dict = dict();
        skipWhitespace();
        if (pos < text.length()) throw error("unexpected text after the header dict");
        for (String key : dict.keySet())
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape"))
                throw fieldError(key, "unexpected key in header");
        return new Npy.NpyHeader(
                field(dict, "descr", String.class, "a string"),
                field(dict, "fortran_order", Boolean.class, "True or False"),
                shape(dict));
    }

    private long[] shape(Map<String, Object> dict) {
        Object v = dict.get("shape");
        if (v == null) throw fieldError("shape", "missing from header");
        if (v instanceof Long single) return new long[] {single}; // "(3)" is an int in Python, but the meaning is clear
        if (!(v instanceof List<?> list)) throw fieldError("shape", "is not a tuple of integers");
        long[] dims = new long[list.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(list.get(i) instanceof Long d)) throw fieldError("shape", "is not a tuple of integers");
            dims[i] = d;
        }
        return dims;
    }

    private <T> T field(Map<String, Object> dict, String key, Class<T> type, String expected) {
        Object v = dict.get(key);
        if (v == null) throw fieldError(key, "missing from header");
        if (!type.isInstance(v)) throw fieldError(key, "is not " + expected);
        return type.cast(v);
    }

    private Map<String, Object> dict() {
        skipWhitespace();
        expect('{');
        Map<String, Object> dict = new LinkedHashMap<>();
        while (true) {
            skipWhitespace();
            if (peek() == '}') { pos++; return dict; }
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            if (dict.put(key, value()) != null) { pos = keyAt; throw error("duplicate key '" + key + "'"); }
            skipWhitespace();
            if (peek() == ',') { pos++; continue; }
            expect('}');
            return dict;
        }
    }

    private Object value() {
        skipWhitespace();
        char c = peek();
        if (c == '\'' || c == '"') return string();
        if (c == '(') return tuple();
        if (c == '-' || (c >= '0' && c <= '9')) return integer();
        if (text.startsWith("True", pos)) { pos += 4; return Boolean.TRUE; }
        if (text.startsWith("False", pos)) { pos += 5; return Boolean.FALSE; }
        throw error("expected a string, True, False, an integer or a tuple");
    }

    private List<Long> tuple() {
        pos++; // '('
        List<Long> items = new ArrayList<>();
        while (true) {
            skipWhitespace();
            if (peek() == ')') { pos++; return items; }
            items.add(integer());
            skipWhitespace();
            if (peek() == ',') { pos++; continue; }
            expect(')');
            return items;
        }
    }

    private Long integer() {
        int start = pos;
        if (peek() == '-') pos++;
        int digitsStart = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 0x80) pos++;
        if (pos == digitsStart) throw error("expected an integer");
        String digits = text.substring(start, pos);
        if (peek() == 'L') pos++;
        // 18 digits always fit in a long; anything longer is no dimension we could hold anyway.
        if (pos - digitsStart > 18) { pos = start; throw error("integer " + digits + " is too large"); }
        return Long.parseLong(digits);
    }

    private String string() {
        char quote = peek();
        if (quote != '\'' && quote != '"') throw error("expected a quoted string");
        int start = ++pos;
        while (pos < text.length() && text.charAt(pos) != quote) {
            if (text.charAt(pos) == '\\') throw error("escapes in header strings are not supported");
            pos++;
        }
        if (pos >= text.length()) { pos = start - 1; throw error("unterminated string"); }
        return text.substring(start, pos++);
    }

    private void expect(char c) {
        if (peek() != c) throw error("expected '" + c + "'");
        pos++;
    }

    private char peek() { return pos < text.length() ? text.charAt(pos) : '\0'; }

    private void skipWhitespace() {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\n' || text.charAt(pos) == '\t' || text.charAt(pos) == '\r'))
            pos++;
    }

    private MalformedFileException error(String message) {
        int at = byteOffset + text.substring(0, Math.min(pos, text.length())).getBytes(charset).length;
        String found = pos < text.length() ? "'" + text.charAt(pos) + "'" : "end of header";
        return Npy.malformed(sourceName, "header dict is malformed at byte " + at + " (found " + found + "): " + message);
    }

    private MalformedFileException fieldError(String key, String message) {
        return Npy.malformed(sourceName, "header field '" + key + "' " + message);
    }
}
