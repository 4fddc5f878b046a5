package dev.kiln.test;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.InvalidIndexException;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;
import dev.kiln.ir.op.Unary;
import dev.kiln.passes.Passes;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Integer inputs, Gather with indices read at run time (embedding lookups, other axes, negative
 * indices), CumSum and a float-to-integer cast, on each backend against the reference; a bad
 * index is an InvalidIndexException naming the node on every backend, and the model stays usable.
 */
class IntegerOpsOnBackendsTest {
    static Stream<String> backends() { return Targets.backends(); }

    /** weight [50,16] gathered by ids [2,5] (negative ones count from the end), then other axes and a scalar index. */
    private static Graph gathers() {
        GraphBuilder b = new GraphBuilder("gathers");
        String ids = b.input("ids", new TensorType(DType.I64, Shape.of(2, 5)));
        String x = b.input("x", TensorType.f32(3, 4, 5));
        String w = b.constant("weight", HostTensor.normal(Shape.of(50, 16), 3));
        b.output(b.add("embed", new Gather(0), List.of(w, ids), "embedding"));
        String small = b.add("small", Unary.of(Unary.Kind.ABS), List.of(ids), "abs");
        String mod = b.add("mod", new Binary(Binary.Kind.MIN), List.of(small, b.constant("three", HostTensor.of(new float[]{3}))), "min");
        b.output(b.add("axis1", new Gather(1), List.of(x, mod), "gather axis 1"));
        b.output(b.add("axis2", new Gather(2), List.of(x, b.constant("pick", HostTensor.of(new float[]{4, 0, -1}, 3))), "gather axis 2"));
        b.output(b.add("scalar", new Gather(0), List.of(x, b.constant("one", HostTensor.of(Shape.scalar(), new float[]{-2}))), "gather scalar"));
        return b.build();
    }

    private static Map<String, HostTensor> gatherInputs(long... ids) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        in.put("ids", HostTensor.ofLongs(ids, 2, 5));
        in.put("x", HostTensor.normal(Shape.of(3, 4, 5), 11));
        return in;
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void gathersMatchTheReference(String backend) {
        check(backend, new Case(gathers(), gatherInputs(0, 49, 7, -1, -50, 3, 3, 12, 0, 25)));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void cumSumAndTruncMatchTheReference(String backend) {
        GraphBuilder b = new GraphBuilder("positions");
        String ids = b.input("ids", new TensorType(DType.I64, Shape.of(2, 6)));
        String x = b.input("x", TensorType.f32(2, 3, 4));
        // HF position ids: cumsum(ids != pad) * mask + pad
        String pad = b.constant("pad", HostTensor.of(new float[]{1}));
        String eq = b.add("eq", new Binary(Binary.Kind.EQ), List.of(ids, pad), "eq");
        String mask = b.add("mask", Unary.of(Unary.Kind.NOT), List.of(eq), "ne");
        String cs = b.add("cs", new CumSum(1, false, false), List.of(mask), "cumsum");
        String pos = b.add("pos", new Binary(Binary.Kind.ADD), List.of(b.add("m", new Binary(Binary.Kind.MUL), List.of(cs, mask), "mul"), pad), "add");
        b.output(pos);
        for (int axis = 0; axis < 3; axis++)
            for (int v = 0; v < 4; v++)
                b.output(b.add("cs" + axis + "_" + v, new CumSum(axis, (v & 1) != 0, (v & 2) != 0), List.of(x), "cumsum"));
        b.output(b.add("trunc", Unary.of(Unary.Kind.TRUNC), List.of(b.add("scaled", new Binary(Binary.Kind.MUL), List.of(x,
                b.constant("k", HostTensor.of(new float[]{3.5f}))), "mul")), "cast"));
        Map<String, HostTensor> in = new LinkedHashMap<>();
        in.put("ids", HostTensor.ofLongs(new long[]{5, 7, 9, 1, 1, 1, 4, 1, 8, 2, 1, 1}, 2, 6));
        in.put("x", HostTensor.normal(Shape.of(2, 3, 4), 5));
        Graph g = b.build();
        Map<String, HostTensor> ref = ReferenceInterpreter.run(g, in);
        assertArrayEquals(new float[]{2, 3, 4, 1, 1, 1, 2, 1, 3, 4, 1, 1}, ref.get("pos").data());
        check(backend, new Case(g, in));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void badIndexIsAnErrorNamingTheNodeAndTheModelStaysUsable(String backend) {
        Graph g = gathers();
        try (CompiledModel m = Kiln.compile(g, Targets.require(backend))) {
            for (long bad : new long[]{50, -51, 1000}) {
                var e = assertThrows(InvalidIndexException.class, () -> m.run(gatherInputs(0, 1, 2, bad, 4, 5, 6, 7, 8, 9)));
                assertTrue(e.getMessage().contains("%embed") && e.getMessage().contains("gather index " + bad)
                        && e.getMessage().contains("[-50, 50)"), e.getMessage());
            }
            Map<String, HostTensor> good = gatherInputs(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            assertEquals(ReferenceInterpreter.run(g, good).get("embed"), m.run(good).get("embed"));
        }
        var e = assertThrows(InvalidIndexException.class, () -> ReferenceInterpreter.run(g, gatherInputs(0, 1, 2, 3, 4, 5, 6, 7, 8, 50)));
        assertTrue(e.getMessage().contains("%embed") && e.getMessage().contains("element 9"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void nonIntegerIndexIsAnError(String backend) {
        GraphBuilder b = new GraphBuilder("frac");
        String i = b.input("i", TensorType.f32(3));
        b.output(b.add("g", new Gather(0), List.of(b.constant("w", HostTensor.normal(Shape.of(4, 2), 1)), i), "gather"));
        try (CompiledModel m = Kiln.compile(b.build(), Targets.require(backend))) {
            var e = assertThrows(InvalidIndexException.class, () -> m.run(Map.of("i", HostTensor.of(new float[]{0, 2.5f, 1}, 3))));
            assertTrue(e.getMessage().contains("2.5") && e.getMessage().contains("not an integer"), e.getMessage());
        }
    }

    @Test
    void integerInputsRefuseFloatTensorsAndValuesBeyondTwoToThe24() {
        Graph g = gathers();
        Map<String, HostTensor> in = gatherInputs(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        in.put("ids", HostTensor.of(new float[10], 2, 5));
        var e = assertThrows(ShapeException.class, () -> ReferenceInterpreter.run(g, in));
        assertTrue(e.getMessage().contains("i64[2,5]") && e.getMessage().contains("HostTensor.ofLongs"), e.getMessage());
        var big = assertThrows(KilnException.class, () -> HostTensor.ofLongs(new long[]{1, (1L << 24) + 1}, 2));
        assertTrue(big.getMessage().contains("element 1") && big.getMessage().contains("16777217"), big.getMessage());
        assertArrayEquals(new long[]{-3, 16777216}, HostTensor.ofLongs(new long[]{-3, 1L << 24}, 2).longs());
    }

    /**
     * Values next to padded convolutions are planned with a halo: a gather or cumsum reading or writing one must
     * still compile (the long property run of 2026-12-08 saw 131 graphs refused for it), and match.
     */
    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void gatherAndCumSumBesidePaddedConvs(String backend) {
        GraphBuilder b = new GraphBuilder("halos");
        String x = b.input("x", TensorType.f32(1, 3, 5, 6));
        String a = b.add("a", Unary.of(Unary.Kind.ABS), List.of(x), "abs");
        b.output(b.add("conv_a", dev.kiln.ir.op.Conv2d.of(1, 1), List.of(a, b.constant("wa", HostTensor.normal(Shape.of(2, 3, 3, 3), 4))), "conv of a"));
        String picked = b.add("picked", new Gather(3), List.of(a, b.constant("cols", HostTensor.of(new float[]{5, 0, 2, -1}, 4))), "gather columns");
        String sums = b.add("sums", new CumSum(2, false, false), List.of(picked), "cumsum rows");
        b.output(b.add("conv_s", dev.kiln.ir.op.Conv2d.of(1, 1), List.of(sums, b.constant("ws", HostTensor.normal(Shape.of(2, 3, 3, 3), 5))), "conv of sums"));
        b.output(b.add("conv_p", dev.kiln.ir.op.Conv2d.of(2, 1), List.of(picked, b.constant("wp", HostTensor.normal(Shape.of(1, 3, 5, 5), 6))), "conv of picked"));
        check(backend, new Case(b.build(), Map.of("x", HostTensor.normal(Shape.of(1, 3, 5, 6), 12))));
    }

    private static void check(String backend, Case c) {
        for (List<String> passes : List.of(List.<String>of(), Passes.DEFAULT)) {
            Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), passes), backend, 1);
            assertNull(f, () -> f + "\n" + IrPrinter.print(c.graph()));
        }
    }
}
