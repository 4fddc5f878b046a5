package dev.kiln.frontend.weights;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The header JSON parser on its own; named for the format so the safetensors test filter runs it. */
class SafetensorsJsonLiteTest {

    @Test
    void parsesNestedObjectsArraysStringsAndIntegersKeepingKeyOrder() throws Exception {
        Object v = JsonLite.parse(" {\"z\": [1, -2, []], \"a\": {\"s\": \"x\"}, \"m\": {}} \n");
        assertEquals(Map.of("z", List.of(1L, -2L, List.of()), "a", Map.of("s", "x"), "m", Map.of()), v);
        assertEquals(List.of("z", "a", "m"), List.copyOf(((Map<?, ?>) v).keySet()));
    }

    @Test
    void decodesEveryStringEscapeIncludingSurrogatePairs() throws Exception {
        assertEquals("\"\\/\b\f\n\r\t é😀", JsonLite.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t \\u00E9\\ud83d\\ude00\""));
    }

    @Test
    void parsesTheFull64BitIntegerRangeAndRejectsBeyondIt() throws Exception {
        assertEquals(Long.MAX_VALUE, JsonLite.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, JsonLite.parse("-9223372036854775808"));
        assertEquals(0L, JsonLite.parse("0"));
        assertSyntaxError("9223372036854775808", 0, "64-bit");
        assertSyntaxError("-9223372036854775809", 0, "64-bit");
        assertSyntaxError("99999999999999999999999", 0, "64-bit");
    }

    @Test
    void reportsTheCharacterPositionOfEachSyntaxError() {
        assertSyntaxError("{\"a\" 1}", 5, "expected ':'");
        assertSyntaxError("[1,]", 3, "unexpected ']'");
        assertSyntaxError("{\"a\":1,\"a\":2}", 7, "duplicate key");
        assertSyntaxError("{a:1}", 1, "string key");
        assertSyntaxError("[1] x", 4, "after the value");
        assertSyntaxError("\"abc", 4, "unterminated");
        assertSyntaxError("\"a\u0001\"", 2, "control character");
        assertSyntaxError("\"\\x\"", 2, "invalid escape");
        assertSyntaxError("\"\\u12g4\"", 5, "hex digit");
        assertSyntaxError("\"\\u12", 3, "truncated");
        assertSyntaxError("01", 0, "leading zero");
        assertSyntaxError("1e5", 1, "only integers");
        assertSyntaxError("-", 1, "digit");
        assertSyntaxError("true", 0, "unexpected 't'");
        assertSyntaxError("", 0, "end of text");
    }

    @Test
    void quotedStringsParseBackToThemselves() throws Exception {
        for (String s : new String[] {"", "plain", "q\"b\\s", "ctl\u0000\u001f\n\t", "naïve 😀"})
            assertEquals(s, JsonLite.parse(JsonLite.quote(s)));
    }

    private static void assertSyntaxError(String text, int position, String message) {
        JsonLite.SyntaxException e = assertThrows(JsonLite.SyntaxException.class, () -> JsonLite.parse(text));
        assertEquals(position, e.position, () -> "position for " + text + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(message), () -> "message for " + text + ": " + e.getMessage());
    }
}
