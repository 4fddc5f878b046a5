package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.MemoryPlan;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Reshapes that only relabel memory are aliases: they share their operand's slot, which lives
 * until the last reader of any alias, and the reshapes whose layout or home differs stay copies.
 */
class MemoryPlanAliasTest {
    private static final long ONE = 16 * 8 * 8 * 4;

    @Test
    void aliasSharesItsOperandsBytesAndKeepsThemLiveUntilItsLastReader() {
        // %a's own last reader is %f (node 1); %f is read at node 4. %b (node 2) must not take %a's bytes.
        Graph g = IrParser.parse("""
                graph @flat(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %f: f32[16,64] = reshape(%a) {shape=[16,64]}
                  %b: f32[1,16,8,8] = unary(%x) {act=tanh}
                  %g: f32[16,64] = reshape(%b) {shape=[16,64]}
                  %y: f32[16,64] = binary(%f, %g) {kind=add}
                  return %y
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        assertEquals("a", plan.aliasOf("f"), plan::toString);
        assertEquals("b", plan.aliasOf("g"), plan::toString);
        assertNull(plan.aliasOf("a"));
        MemoryPlan.Slot a = plan.slots().get("a"), f = plan.slots().get("f"), b = plan.slots().get("b");
        assertEquals(a.offset(), f.offset(), plan::toString);
        assertEquals(4, a.lastUse(), "the group lives until %y reads %f");
        assertTrue(b.offset() >= a.offset() + a.bytes() || a.offset() >= b.offset() + b.bytes(), plan::toString);
        assertEquals(2 * ONE, plan.totalBytes(), "aliases add no bytes");
        assertEquals(2 * ONE, plan.peakBytes(), plan::toString);
        assertEquals(java.util.List.of(), plan.conflicts());
        assertTrue(plan.toString().contains("alias of %a"), plan::toString);
    }

    @Test
    void chainsAliasTheFirstValue() {
        Graph g = IrParser.parse("""
                graph @chain(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %r1: f32[16,64] = reshape(%a) {shape=[16,64]}
                  %r2: f32[1024] = reshape(%r1) {shape=[1024]}
                  %c: f32[1,16,8,8] = unary(%x) {act=tanh}
                  %r3: f32[1024] = reshape(%c) {shape=[1024]}
                  %y: f32[1024] = binary(%r2, %r3) {kind=add}
                  return %y
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        assertEquals("a", plan.aliasOf("r1"));
        assertEquals("a", plan.aliasOf("r2"), "a reshape of an alias shares the first value's bytes");
        assertEquals(plan.slots().get("a").offset(), plan.slots().get("r2").offset());
        assertEquals(5, plan.slots().get("a").lastUse());
        assertEquals(java.util.List.of(), plan.conflicts());
        assertEquals(2 * ONE, plan.peakBytes(), plan::toString);
    }

    @Test
    void reshapesOfInputsAndIntoOutputsAreAliasesOfOutputsStayCopies() {
        Graph g = IrParser.parse("""
                graph @homes(%x: f32[1,16,8,8]) {
                  %fromInput: f32[16,64] = reshape(%x) {shape=[16,64]}
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %intoOutput: f32[16,64] = reshape(%a) {shape=[16,64]}
                  %o: f32[1,16,8,8] = unary(%x) {act=tanh}
                  %ofOutput: f32[16,64] = reshape(%o) {shape=[16,64]}
                  %y: f32[16,64] = binary(%fromInput, %ofOutput) {kind=add}
                  return %y, %intoOutput, %o
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        // %fromInput reads the caller's %x; %a is written straight into the output %intoOutput; %o is an output itself
        assertEquals(java.util.Map.of("fromInput", "x", "intoOutput", "a"), plan.aliases(), plan::toString);
        assertEquals("intoOutput", plan.outputOf("a"));
        assertNull(plan.slots().get("fromInput"));
        assertNull(plan.slots().get("a"));
        assertNotNull(plan.slots().get("ofOutput"));
    }

    @Test
    void anOutputsReshapeOfAValueWithAnotherReaderStaysACopy() {
        Graph g = IrParser.parse("""
                graph @shared(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %y: f32[16,64] = reshape(%a) {shape=[16,64]}
                  %z: f32[1,16,8,8] = unary(%a) {act=tanh}
                  return %y, %z
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        assertEquals(java.util.Map.of(), plan.aliases(), plan::toString);
        assertNull(plan.outputOf("a"));
    }

    @Test
    void reshapesAcrossAHaloStayCopies() {
        // %a is read by a padded conv (haloed operand); %r's result is read by one (haloed result)
        Graph g = IrParser.parse("""
                graph @halos(%x: f32[1,2,4,4]) {
                  const %w: f32[2,2,3,3]
                  %a: f32[1,2,4,4] = unary(%x) {act=relu}
                  %p: f32[1,2,4,4] = conv2d(%a, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1}
                  %f: f32[2,16] = reshape(%a) {shape=[2,16]}
                  %b0: f32[1,2,16] = reshape(%x) {shape=[1,2,16]}
                  %b: f32[1,2,16] = unary(%b0) {act=relu}
                  %r: f32[1,2,4,4] = reshape(%b) {shape=[1,2,4,4]}
                  %q: f32[1,2,4,4] = conv2d(%r, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1}
                  return %p, %f, %q
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        assertFalse(plan.isAlias("r"), () -> "a reshape into a haloed result is a copy:\n" + plan);
        assertTrue(plan.isAlias("b0"), "a reshape of a graph input without a halo reads the caller's buffer");
        assertNotEquals(0, plan.slots().get("r").halo()[0]);
        // %f is a graph output here; a haloed operand with an arena result:
        Graph h = IrParser.parse("""
                graph @halo2(%x: f32[1,2,4,4]) {
                  const %w: f32[2,2,3,3]
                  %a: f32[1,2,4,4] = unary(%x) {act=relu}
                  %p: f32[1,2,4,4] = conv2d(%a, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1}
                  %f: f32[2,16] = reshape(%a) {shape=[2,16]}
                  %y: f32[2,16] = unary(%f) {act=tanh}
                  return %p, %y
                }
                """);
        MemoryPlan hp = MemoryPlan.plan(h);
        assertFalse(hp.isAlias("f"), () -> "a reshape of a haloed operand is a copy:\n" + hp);
        assertEquals(java.util.List.of(), hp.conflicts());
    }

    @Test
    void scratchNeverTakesAliasedBytes() {
        Graph g = IrParser.parse("""
                graph @scratch(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %f: f32[16,64] = reshape(%a) {shape=[16,64]}
                  %b: f32[1,16,8,8] = unary(%x) {act=tanh}
                  %c: f32[1,16,8,8] = unary(%b) {act=relu}
                  %g: f32[16,64] = reshape(%c) {shape=[16,64]}
                  %y: f32[16,64] = binary(%f, %g) {kind=add}
                  return %y
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g, java.util.Map.of("c", 8192L, "b", 4096L));
        assertEquals(java.util.List.of(), plan.conflicts(), plan::toString);
        MemoryPlan.Slot a = plan.slots().get("a");
        for (MemoryPlan.Slot s : plan.scratch().values())
            assertTrue(s.offset() >= a.offset() + a.bytes() || a.offset() >= s.offset() + s.bytes(), plan::toString);
    }
}
