package dev.kiln.test;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.op.Softmax;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Choices;
import dev.kiln.test.kit.DataGen;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.FailureReport;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Shrinker;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The property kit itself: replay, shrinking, the case file format and the failure report. */
class ShrinkerTest {
    static final GraphGen.Generator GEN = GraphGen.finite(GraphGen.Options.DEFAULT);

    /** A planted "bug": any softmax reading a value above 0.5. */
    static final Property.Check SOFTMAX_OF_BIG_VALUES = c -> {
        var values = Tolerance.values(c);
        for (var n : c.graph().nodes())
            if (n.op() instanceof Softmax)
                for (float v : values.get(n.inputs().getFirst()).data())
                    if (v > 0.5f) return new Failure("planted", "softmax of " + v, "");
        return null;
    };

    @Test
    void sameChoicesGiveTheSameCase() {
        Choices first = Choices.random(42);
        Case a = GEN.generate(first), b = GEN.generate(Choices.replay(first.sequence()));
        assertEquals(a.toText("x"), b.toText("x"));
    }

    @Test
    void shrinksToTheSmallestCaseThatStillFails() {
        long s0 = 0;
        Choices ch;
        Case c;
        do { ch = Choices.random(++s0); c = GEN.generate(ch); } while (Property.evaluate(SOFTMAX_OF_BIG_VALUES, c) == null || c.nodeCount() < 6);
        long seed = s0;
        Shrinker.Result r = Shrinker.shrink(GEN, ch.sequence(), c, Property.evaluate(SOFTMAX_OF_BIG_VALUES, c), SOFTMAX_OF_BIG_VALUES);
        Case s = r.shrunk();
        String ir = IrPrinter.print(s.graph());
        assertEquals(1, s.nodeCount(), () -> "seed " + seed + ": expected the softmax alone\n" + ir);
        assertInstanceOf(Softmax.class, s.graph().nodes().getFirst().op(), ir);
        assertTrue(s.elements() <= 4, () -> "dimensions were not shrunk: " + s.elements() + " elements\n" + ir);
        for (HostTensor t : DataGen.tensors(s).values())
            for (float v : t.data()) assertTrue(v == 1f || v == 0f, () -> "data was not simplified to ones: " + s.toText(""));
    }

    @Test
    void caseTextKeepsEveryBitAndQuotesOddNames() {
        var b = new dev.kiln.ir.GraphBuilder("odd \"case\"");
        String x = b.input("x \"1\"\nline", dev.kiln.ir.TensorType.f32(6));
        String w = b.constant("back\\slash", HostTensor.of(new float[]{-0f, Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-42f}, 6));
        b.output(b.add(new dev.kiln.ir.op.Binary(dev.kiln.ir.op.Binary.Kind.MUL), java.util.List.of(x, w), ""));
        Case c = new Case(b.build(), java.util.Map.of(x, HostTensor.of(new float[]{0f, -0f, 3.4028235e38f, -1.17549435E-38f, 0.1f, Float.NaN}, 6)));
        Case back = Case.parse(c.toText("header line\nsecond"), "test");
        assertEquals(IrPrinter.print(c.graph()), IrPrinter.print(back.graph()));
        for (var e : DataGen.tensors(c).entrySet())
            for (int i = 0; i < e.getValue().size(); i++)
                assertEquals(Float.floatToRawIntBits(e.getValue().data()[i]), Float.floatToRawIntBits(DataGen.tensors(back).get(e.getKey()).data()[i]), e.getKey() + "[" + i + "]");
    }

    @Test
    void reportHasSeedShrunkIrInputsBothOutputsAndAReplayCommandAndWritesTheCase() throws Exception {
        AssertionError e = assertThrows(AssertionError.class, () -> Property.check("planted failure", "-Dtest='ShrinkerTest'", 5, GEN,
                c -> new Failure("planted", "always fails", "  reference %t: [1.0]\n  backend %t: [2.0]\n")));
        String report = e.getMessage();
        for (String part : new String[]{"failed at seed", "--- shrunk graph", "graph @", "--- inputs and constants", "--- outputs",
                "reference %t", "backend %t", "-Dkiln.seed=", "mvn -pl test -am test -Dtest='ShrinkerTest'"})
            assertTrue(report.contains(part), () -> "the report lacks '" + part + "':\n" + report);
        Matcher m = Pattern.compile("shrunk case: (\\S+\\.kcase)").matcher(report);
        assertTrue(m.find(), report);
        Case kept = Case.parse(Files.readString(Path.of(m.group(1))), m.group(1));
        assertTrue(report.contains(IrPrinter.print(kept.graph())), report);
        assertTrue(Path.of(m.group(1)).startsWith(FailureReport.DIR.toAbsolutePath()));
        assertEquals(0, kept.nodeCount(), "an always-failing property shrinks to a graph returning its input:\n" + report);
        assertEquals(1, kept.graph().inputs().size(), report);
    }
}
