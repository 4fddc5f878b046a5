package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A graph's use-lists: who reads a value and how often, as the passes ask for them. */
class GraphUsesTest {
    static final Graph G = IrParser.parse("""
            graph @g(%x: f32[2]) {
              %a: f32[2] = unary(%x) {act=relu}
              %b: f32[2] = binary(%a, %a) {kind=mul}
              %c: f32[2] = binary(%b, %a) {kind=add}
              %d: f32[2] = unary(%x) {act=tanh}
              return %c, %a
            }
            """);

    @Test
    void consumersListEachReaderOnceInGraphOrder() {
        assertEquals(List.of("b", "c"), G.consumers("a").stream().map(Node::name).toList());
        assertEquals(List.of("a", "d"), G.consumers("x").stream().map(Node::name).toList());
        assertEquals(List.of(), G.consumers("d"), "an unread value has no consumers");
        assertEquals(List.of(), G.consumers("nowhere"));
        assertThrows(UnsupportedOperationException.class, () -> G.consumers("a").clear(), "the index is shared");
    }

    @Test
    void useCountCountsEveryReadAndEveryGraphOutput() {
        assertEquals(4, G.useCount("a"), "read twice by %b, once by %c, and returned");
        assertEquals(1, G.useCount("c"), "returned only");
        assertEquals(0, G.useCount("d"));
        assertEquals(2, G.useCount("x"));
    }
}
