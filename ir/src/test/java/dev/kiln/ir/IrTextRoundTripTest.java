package dev.kiln.ir;

import dev.kiln.ir.op.Op;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IrTextRoundTripTest {
    private static final long BASE_SEED = 0x4b494c4eL;
    private static final int GRAPHS = 500;

    interface GraphCheck { void check(long seed, Graph g) throws Exception; }

    /** Runs the check on GRAPHS seeded random graphs (or only -Dkiln.seed=N); a failure names the seed and prints the IR. */
    static void forEachRandomGraph(GraphCheck check) {
        Long only = Long.getLong("kiln.seed");
        for (long i = 0; i < (only == null ? GRAPHS : 1); i++) {
            long seed = only == null ? BASE_SEED + i : only;
            Graph g = null;
            try {
                g = RandomGraphs.generate(seed);
                check.check(seed, g);
            } catch (org.opentest4j.TestAbortedException t) {
                throw t;
            } catch (Throwable t) {
                String ir;
                try { ir = g == null ? "<generation failed>" : IrPrinter.print(g); } catch (RuntimeException e) { ir = "<unprintable: " + e + ">"; }
                throw new AssertionFailedError("random graph seed " + seed + " (rerun with -Dkiln.seed=" + seed + "): " + t + "\n" + ir, t);
            }
        }
    }

    @Test
    void printParsePrintIsIdenticalAndKeepsEveryNode() {
        forEachRandomGraph((seed, g) -> {
            String text = IrPrinter.print(g);
            Graph parsed = IrParser.parse(text, "seed-" + seed + ".kir");
            assertEquals(text, IrPrinter.print(parsed), "second print differs");
            assertSameStructure(g, parsed);
        });
    }

    @Test
    void parsedGraphWithBoundWeightsComputesExactlyWhatTheOriginalDoes() {
        forEachRandomGraph((seed, g) -> {
            Graph parsed = IrParser.parse(IrPrinter.print(g)).withWeights(g.weights());
            Map<String, HostTensor> in = RandomGraphs.inputsFor(g, seed);
            assertEquals(ReferenceInterpreter.run(g, in), ReferenceInterpreter.run(parsed, in));
        });
    }

    @Test
    void randomGraphsUseEveryOpAndQuoteOddNames() {
        Set<String> seen = new TreeSet<>();
        boolean[] quoted = new boolean[1];
        forEachRandomGraph((seed, g) -> {
            for (Node n : g.nodes()) seen.add(n.op().mnemonic());
            quoted[0] |= IrPrinter.print(g).contains("%\"say \\\"");
        });
        Set<String> all = new TreeSet<>();
        for (Class<?> c : Op.class.getPermittedSubclasses()) all.add(Op.mnemonicOf(c));
        assertEquals(all, seen, "ops the generator never produced");
        assertTrue(quoted[0], "no value name needed quoting");
    }

    @Test
    void sameSeedGivesTheSameGraph() {
        assertEquals(IrPrinter.print(RandomGraphs.generate(42)), IrPrinter.print(RandomGraphs.generate(42)));
    }

    static void assertSameStructure(Graph expected, Graph actual) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.inputs(), actual.inputs());
        assertEquals(expected.constants(), actual.constants());
        assertEquals(List.copyOf(expected.constants().keySet()), List.copyOf(actual.constants().keySet()));
        assertEquals(expected.outputs(), actual.outputs());
        assertEquals(expected.nodes().size(), actual.nodes().size());
        for (int i = 0; i < expected.nodes().size(); i++) {
            Node e = expected.nodes().get(i), a = actual.nodes().get(i);
            assertEquals(e.name(), a.name());
            assertEquals(e.op().mnemonic(), a.op().mnemonic(), e.describe());
            assertEquals(e.op(), a.op(), e.describe());   // ops compare by value, attributes included
            assertEquals(e.inputs(), a.inputs(), e.describe());
            assertEquals(e.type(), a.type(), e.describe());
            assertEquals(e.origin(), a.origin(), e.describe());
        }
    }

    // ---- hand-written IR ----

    private static final String BLOCK = """
            // a residual block, written by hand: comments, spacing and quoting as a person types them
            graph @block(%x: f32[1,2,3,3]) {
              const %conv.w: f32[2,2,1,1]
              const %conv.b : f32[ 2 ]
              %y: f32[1,2,3,3] = conv2d(%x, %conv.w, %conv.b) {stride = [1, 1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("block.conv")
              %sum: f32[1,2,3,3] = binary(%y,%x) {kind=add}   // the residual
              %"act out": f32[1,2,3,3] = unary(%sum) {act=leaky_relu(0.1)} loc("block \\"act\\"")
              %pooled: f32[1,2,1,1] = global_avg_pool(%"act out")
              return %"act out", %pooled
            }
            """;

    @Test
    void parsesReadableHandWrittenIr() {
        Graph g = IrParser.parse(BLOCK, "block.kir");
        assertEquals("block", g.name());
        assertEquals(List.of(new Graph.Value("x", TensorType.f32(1, 2, 3, 3))), g.inputs());
        assertEquals(Map.of("conv.w", TensorType.f32(2, 2, 1, 1), "conv.b", TensorType.f32(2)), g.constants());
        assertEquals(List.of("y", "sum", "act out", "pooled"), g.nodes().stream().map(Node::name).toList());
        assertEquals(List.of("act out", "pooled"), g.outputs());
        Node conv = g.nodes().getFirst(), act = g.nodes().get(2);
        assertEquals("stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1", IrPrinter.attributes(conv.op()));
        assertEquals("block.conv", conv.origin());
        assertEquals("act=leaky_relu(0.1)", IrPrinter.attributes(act.op()));
        assertEquals("block \"act\"", act.origin());
        assertEquals("", g.nodes().get(1).origin());
        assertEquals(g.toString(), IrPrinter.print(IrParser.parse(g.toString())));

        // identity 1x1 conv, zero bias: act = leaky(2x); pooled = mean over each channel
        Graph bound = g.withWeights(Map.of(
                "conv.w", HostTensor.of(new float[]{1, 0, 0, 1}, 2, 2, 1, 1), "conv.b", HostTensor.zeros(2)));
        float[] x = {1, -2, 3, -4, 5, -6, 7, -8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 10};
        Map<String, HostTensor> out = ReferenceInterpreter.run(bound, Map.of("x", HostTensor.of(x, 1, 2, 3, 3)));
        // channel 0: 2x = 2,-4,6,-8,10,-12,14,-16,18 → leaky 0.1: 2,-0.4,6,-0.8,10,-1.2,14,-1.6,18 (sum 50 − 4 = 46)
        // channel 1: 2x = 0 ... 0, 20 → mean 20/9
        float[] act0 = {2, -0.4f, 6, -0.8f, 10, -1.2f, 14, -1.6f, 18, 0, 0, 0, 0, 0, 0, 0, 0, 20};
        assertArrayEquals(act0, out.get("act out").data(), 1e-6f);
        assertArrayEquals(new float[]{46f / 9, 20f / 9}, out.get("pooled").data(), 1e-6f);
    }

    // ---- malformed IR: each error says where (source:line:col) and what ----

    private static final String HEAD = "graph @g(%x: f32[1,2]) {\n";

    private static void assertMalformed(String ir, String where, String... what) {
        KilnException e = assertThrows(KilnException.class, () -> IrParser.parse(ir, "bad.kir"));
        assertTrue(e instanceof MalformedFileException, "expected MalformedFileException, got " + e);
        assertTrue(e.getMessage().startsWith("bad.kir:" + where + ": "), "message should start with bad.kir:" + where + ": " + e.getMessage());
        for (String w : what) assertTrue(e.getMessage().contains(w), "message should say '" + w + "': " + e.getMessage());
    }

    @Test
    void unknownOpIsNamedAtItsPosition() {
        assertMalformed(HEAD + "  %y: f32[1,2] = frobnicate(%x)\n  return %y\n}\n", "2:18", "unknown op 'frobnicate'");
    }

    @Test
    void missingAttributeIsNamed() {
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {}\n  return %y\n}\n", "2:18", "unary needs attribute 'act'");
    }

    @Test
    void unknownOrBadAttributeValuesAreNamed() {
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=relu, beta=1}\n  return %y\n}\n", "2:18", "unary has no attribute(s) [beta]");
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=sideways}\n  return %y\n}\n", "2:18", "attribute 'act'", "'sideways'", "no activation 'sideways'");
        assertMalformed(HEAD + "  %y: f32[1,2] = scale(%x) {factor=half}\n  return %y\n}\n", "2:18", "attribute 'factor'", "'half'");
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=relu(0.3)}\n  return %y\n}\n", "2:18", "attribute 'act'", "relu takes 0 parameter(s), got 1");
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=clip(6.0,0.0)}\n  return %y\n}\n", "2:18", "attribute 'act'", "clip needs min <= max");
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=none}\n  return %y\n}\n", "2:18", "bad attributes for unary", "needs a function, not none");
    }

    @Test
    void badTensorTypeIsQuoted() {
        assertMalformed(HEAD + "  %y: f33[1,2] = unary(%x) {act=relu}\n  return %y\n}\n", "2:7", "bad tensor type 'f33[1,2]'", "unknown dtype 'f33'");
        assertMalformed("graph @g(%x: f32[1,two]) {\n  return %x\n}\n", "1:14", "bad tensor type 'f32[1,two]'");
    }

    @Test
    void typeThatDisagreesWithTheOpIsReportedAtTheNode() {
        assertMalformed(HEAD + "  %y: f32[2,1] = unary(%x) {act=relu}\n  return %y\n}\n", "2:3",
                "%y is declared f32[2,1]", "unary", "f32[1,2]");
        assertMalformed(HEAD + "  const %w: f32[3,3]\n  %y: f32[1,3] = mat_mul(%x, %w)\n  return %y\n}\n", "3:3",
                "inner dimensions differ", "f32[1,2]", "f32[3,3]");
    }

    @Test
    void undefinedValueIsReportedAtItsUse() {
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%nope) {act=relu}\n  return %y\n}\n", "2:24", "%nope is not defined");
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%y) {act=relu}\n  return %y\n}\n", "2:24", "%y is not defined");
        assertMalformed(HEAD + "  return %x, %z\n}\n", "2:14", "%z is not defined");
    }

    @Test
    void valueDefinedTwiceIsReportedAtTheSecondDefinition() {
        assertMalformed(HEAD + "  %x: f32[1,2] = unary(%x) {act=relu}\n  return %x\n}\n", "2:3", "%x is defined twice");
    }

    @Test
    void unterminatedStringIsReportedAtItsOpeningQuote() {
        assertMalformed(HEAD + "  %y: f32[1,2] = unary(%x) {act=relu} loc(\"block\n  return %y\n}\n", "2:43", "unterminated string");
        assertMalformed("graph @g(%\"x: f32[1,2]) {\n  return %x\n}\n", "1:11", "unterminated string");
    }

    @Test
    void trailingGarbageIsReported() {
        assertMalformed(HEAD + "  return %x\n}\n\n  graph again", "5:3", "unexpected text after the graph");
    }

    @Test
    void missingPunctuationSaysWhatWasExpected() {
        assertMalformed(HEAD + "  %y f32[1,2] = unary(%x) {act=relu}\n  return %y\n}\n", "2:6", "expected ':'");
        assertMalformed(HEAD + "  return %x\n", "3:1", "expected '}'");
        assertMalformed("graph g(%x: f32[1,2]) {\n  return %x\n}\n", "1:7", "expected '@'");
    }

    @Test
    void printerQuotesNamesThatAreNotIdentifiers() {
        GraphBuilder b = new GraphBuilder("my graph");
        List<String> names = new ArrayList<>(Arrays.asList("plain_name.0", "with space", "q\"uote", "back\\slash", "new\nline", "", "42", "ünï"));
        for (String n : names) b.input(n, TensorType.f32(1));
        b.output("");
        String text = IrPrinter.print(b.build());
        assertTrue(text.startsWith("graph @\"my graph\"(%plain_name.0: f32[1], %\"with space\": f32[1], %\"q\\\"uote\": f32[1], "
                + "%\"back\\\\slash\": f32[1], %\"new\\nline\": f32[1], %\"\": f32[1], %42: f32[1], %ünï: f32[1]) {"), text);
        assertEquals(names, IrParser.parse(text).inputs().stream().map(Graph.Value::name).toList());
    }
}
