package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Reduce;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.frontend.onnx.OnnxLoweringTest.load;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** ReduceX and the global pools: how their axes, keepdims and noop_with_empty_axes become one Reduce op, and what is refused. */
class ReduceImportTest {
    private static Reduce only(Graph g) {
        assertEquals(1, g.nodes().size(), g.toString());
        return (Reduce) g.nodes().getFirst().op();
    }

    @Test
    void axesAttributeNegativeAndUnsortedBecomeSortedAxes() {
        Graph g = load(new OnnxTestModel().input("x", 2, 3, 4, 5).node("ReduceMean", "x", "y", attrInts("axes", -1, 1), attr("keepdims", 0L)).output("y"));
        assertEquals(new Reduce(Reduce.Kind.MEAN, false, 1, 3), only(g));
        for (String[] k : new String[][]{{"ReduceMax", "MAX"}, {"ReduceMin", "MIN"}, {"ReduceProd", "PROD"}, {"ReduceL1", "L1"}, {"ReduceL2", "L2"},
                {"ReduceSumSquare", "SUM_SQUARE"}, {"ReduceLogSum", "LOG_SUM"}, {"ReduceLogSumExp", "LOG_SUM_EXP"}}) {
            Graph h = load(new OnnxTestModel().input("x", 2, 3).node(k[0], "x", "y", attrInts("axes", 0)).output("y"));
            assertEquals(new Reduce(Reduce.Kind.valueOf(k[1]), true, 0), only(h), k[0]);
        }
    }

    @Test
    void reduceSumTakesItsAxesAsAnInputAndNoAxesMeansAll() {
        Graph g = load(new OnnxTestModel().input("x", 2, 3, 4).ints("axes", new long[]{1}, 1).node("ReduceSum", in("x", "axes"), in("y")).output("y"));
        assertEquals(new Reduce(Reduce.Kind.SUM, true, 1), only(g));
        Graph all = load(new OnnxTestModel().input("x", 2, 3, 4).node("ReduceSum", "x", "y", attr("keepdims", 0L)).output("y"));
        assertEquals(new Reduce(Reduce.Kind.SUM, false, 0, 1, 2), only(all));
        Graph noop = load(new OnnxTestModel().input("x", 2, 3, 4).node("ReduceSum", "x", "y", attr("noop_with_empty_axes", 1L))
                .node("Relu", "y", "z").output("z"));
        assertEquals(List.of("unary"), noop.nodes().stream().map(n -> n.op().mnemonic()).toList());
    }

    @Test
    void globalPoolsReduceEverySpatialAxis() {
        Graph avg = load(new OnnxTestModel().input("x", 1, 2, 3, 4).node("GlobalAveragePool", "x", "y").output("y"));
        assertEquals(Reduce.globalAvgPool(), only(avg));
        Graph max = load(new OnnxTestModel().input("x", 1, 2, 7).node("GlobalMaxPool", "x", "y").output("y"));
        assertEquals(new Reduce(Reduce.Kind.MAX, true, 2), only(max));
    }

    @Test
    void refusesRuntimeAxesRepeatedAxesAndPoolsWithoutSpatialAxes() {
        var runtime = assertThrowsExactly(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 2, 3).input("a", 1)
                .node("Cast", "a", "ai", attr("to", (long) OnnxFields.INT64)).node("ReduceSum", in("x", "ai"), in("y")).output("y")));
        assertTrue(runtime.getMessage().contains("ReduceSum"), runtime.getMessage());
        var twice = assertThrowsExactly(MalformedFileException.class, () -> load(new OnnxTestModel().input("x", 2, 3)
                .node("ReduceMax", "x", "y", attrInts("axes", 1, -1)).output("y")));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        var flat = assertThrowsExactly(MalformedFileException.class, () -> load(new OnnxTestModel().input("x", 2, 3).node("GlobalAveragePool", "x", "y").output("y")));
        assertTrue(flat.getMessage().contains("no spatial axes"), flat.getMessage());
    }
}
