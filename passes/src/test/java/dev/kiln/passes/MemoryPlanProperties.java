package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Node;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The memory plan of a graph, as given, and after the default pipeline: results that are live
 * at the same time never share bytes, every intermediate has a slot, the arena is no bigger
 * than the sum of its slots, and slots are aligned. Then examples: a chain reuses memory, and
 * a padded conv's input gets a haloed buffer of the right size.
 */
class MemoryPlanProperties {
    @Test
    void liveResultsNeverShareBytes() {
        int aliased = 0;
        for (long seed : PassesPreserveSemanticsProperties.seeds()) {
            Graph g = PatternGraphs.generate(seed);
            aliased += check(seed, "as generated", g);
            aliased += check(seed, "after the default pipeline", PassManager.defaults().run(g).graph());
        }
        assertTrue(aliased > 0, "no generated graph has a reshape aliasing its operand: the alias rule is untested here");
    }

    /** Checks the plan of g; returns how many of its results are aliases. */
    private static int check(long seed, String when, Graph g) {
        // a backend's kernel scratch for some nodes, of sizes from 4 bytes to a few results
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        java.util.Map<String, Long> scratch = new java.util.HashMap<>();
        for (Node n : g.nodes()) if (r.nextInt(3) == 0) scratch.put(n.name(), 4L + r.nextLong(3 * n.type().bytes()));
        MemoryPlan plan = MemoryPlan.plan(g, scratch);
        String context = "seed " + seed + " (" + when + ")\n" + plan + "--- graph\n" + g;
        assertEquals(java.util.List.of(), plan.conflicts(), () -> "live results share bytes: " + context);
        for (Node n : g.nodes()) {
            boolean output = g.outputs().contains(n.name());
            MemoryPlan.Slot s = plan.slots().get(n.name());
            if (output) { assertNull(s, () -> "graph output %" + n.name() + " is given a slot in the arena: " + context); continue; }
            if (plan.outputOf(n.name()) != null || plan.isAlias(n.name()) && g.inputs().stream().anyMatch(i -> i.name().equals(plan.aliasOf(n.name())))) {
                // written into a graph output's buffer, or a reshape of a graph input: outside the arena
                assertNull(s, () -> "%" + n.name() + " lives outside the arena but has a slot: " + context);
                continue;
            }
            assertNotNull(s, () -> "intermediate %" + n.name() + " has no slot: " + context);
            assertTrue(s.bytes() >= n.type().bytes(), () -> "slot of %" + n.name() + " is smaller than its result: " + context);
            assertTrue(s.lastUse() >= s.firstUse(), () -> "slot of %" + n.name() + " dies before it is born: " + context);
        }
        for (var e : scratch.entrySet()) {
            MemoryPlan.Slot s = plan.scratch().get(e.getKey());
            assertNotNull(s, () -> "no scratch for %" + e.getKey() + ": " + context);
            assertTrue(s.bytes() >= e.getValue() && s.firstUse() == s.lastUse(), () -> "scratch of %" + e.getKey() + ": " + context);
            assertEquals(e.getKey(), g.nodes().get(s.firstUse()).name(), () -> "scratch of %" + e.getKey() + " lives elsewhere: " + context);
        }
        for (MemoryPlan.Slot s : java.util.stream.Stream.concat(plan.slots().values().stream(), plan.scratch().values().stream()).toList()) {
            assertEquals(0, s.offset() % MemoryPlan.ALIGN, () -> "slot %" + s.value() + " is not aligned: " + context);
            assertEquals(0, s.bytes() % MemoryPlan.ALIGN, () -> "slot %" + s.value() + " size is not aligned: " + context);
            assertTrue(s.offset() + s.bytes() <= plan.peakBytes(), () -> "slot %" + s.value() + " lies beyond the arena: " + context);
        }
        assertTrue(plan.peakBytes() <= plan.totalBytes(), () -> "peak above the total: " + context);
        for (var e : plan.aliases().entrySet()) {
            MemoryPlan.Slot alias = plan.slots().get(e.getKey()), root = plan.slots().get(e.getValue());
            assertFalse(plan.isAlias(e.getValue()), () -> "alias of an alias: " + context);
            if (root == null) continue;   // a graph input's bytes, or a value in a graph output's buffer
            assertEquals(root.offset(), alias.offset(), () -> "%" + e.getKey() + " is not at its operand's bytes: " + context);
            int lastRead = -1;
            for (int i = 0; i < g.nodes().size(); i++) if (g.nodes().get(i).inputs().contains(e.getKey())) lastRead = i;
            int read = lastRead;
            assertTrue(root.lastUse() >= read, () -> "%" + e.getValue() + " dies before its alias %" + e.getKey() + " is read: " + context);
        }
        return plan.aliases().size();
    }

    @Test
    void kernelScratchSharesBytesWithDeadResults() {
        Graph g = IrParser.parse("""
                graph @shrinking(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %b: f32[1,16,8,8] = unary(%a) {act=tanh}
                  %c: f32[1,16,1,1] = global_avg_pool(%b)
                  %d: f32[1,16,1,1] = unary(%c) {act=relu}
                  %e: f32[1,16,1,1] = unary(%d) {act=relu}
                  return %e
                }
                """);
        // %d's 4 KiB of scratch takes bytes of %a or %b, dead by then, instead of being added after the arena
        MemoryPlan plan = MemoryPlan.plan(g, java.util.Map.of("d", 4096L));
        assertTrue(plan.peakBytes() < MemoryPlan.plan(g).peakBytes() + 4096, plan::toString);
        assertEquals(java.util.List.of(), plan.conflicts());
        assertTrue(plan.toString().contains("scratch of %d"), plan::toString);
    }

    @Test
    void chainReusesMemory() {
        // a, b, c each live only until the next node reads them: a and c can share bytes
        Graph g = IrParser.parse("""
                graph @chain(%x: f32[1,16,8,8]) {
                  %a: f32[1,16,8,8] = unary(%x) {act=relu}
                  %b: f32[1,16,8,8] = unary(%a) {act=tanh}
                  %c: f32[1,16,8,8] = unary(%b) {act=sigmoid}
                  %d: f32[1,16,8,8] = unary(%c) {act=relu}
                  return %d
                }
                """);
        MemoryPlan plan = MemoryPlan.plan(g);
        long one = 16 * 8 * 8 * 4;
        assertEquals(java.util.Set.of("a", "b", "c"), plan.slots().keySet(), "the output %d lives outside the arena");
        assertEquals(3 * one, plan.totalBytes());
        assertEquals(2 * one, plan.peakBytes(), plan::toString);
        assertEquals(plan.slots().get("a").offset(), plan.slots().get("c").offset(), plan::toString);
        assertTrue(plan.conflicts().isEmpty());
    }

    @Test
    void paddedConvInputGetsHaloedBuffer() {
        // %a is read by two convs padded [1,2,0,1] and [0,0,2,0]: its buffer has the larger padding on each side
        Graph g = IrParser.parse("""
                graph @halo(%x: f32[1,2,5,7]) {
                  const %w: f32[3,2,3,3]
                  %a: f32[1,2,5,7] = unary(%x) {act=relu}
                  %b: f32[1,3,4,8] = conv2d(%a, %w) {stride=[1,1], padding=[1,2,0,1], dilation=[1,1], groups=1}
                  %c: f32[1,3,5,5] = conv2d(%a, %w) {stride=[1,1], padding=[0,0,2,0], dilation=[1,1], groups=1}
                  return %b, %c
                }
                """);
        MemoryPlan.Slot a = MemoryPlan.plan(g).slots().get("a");
        assertArrayEquals(new int[]{1, 2, 2, 1}, a.halo(), () -> Arrays.toString(a.halo()));
        long bytes = 1L * 2 * (5 + 1 + 2) * (7 + 2 + 1) * 4;         // 640: [1,2,8,10] f32, already 64-byte aligned
        assertEquals(bytes, a.bytes());
    }

    @Test
    void graphInputReadByPaddedConvIsCopiedIntoHaloedBuffer() {
        Graph g = IrParser.parse("""
                graph @halo(%x: f32[1,3,4,4]) {
                  const %w: f32[3,3,3,3]
                  %y: f32[1,3,4,4] = conv2d(%x, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1}
                  return %y
                }
                """);
        MemoryPlan.Slot x = MemoryPlan.plan(g).slots().get("x");
        assertNotNull(x, "the input needs a haloed copy");
        assertArrayEquals(new int[]{1, 1, 1, 1}, x.halo());
        assertEquals(448, x.bytes(), "[1,3,6,6] f32 is 432 bytes, aligned up to 448");
        assertEquals(-1, x.firstUse(), "copied in before the first node");
    }
}
