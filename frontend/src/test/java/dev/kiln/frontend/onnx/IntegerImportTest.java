package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.InvalidIndexException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxFields.FLOAT;
import static dev.kiln.frontend.onnx.OnnxFields.INT32;
import static dev.kiln.frontend.onnx.OnnxFields.INT64;
import static dev.kiln.frontend.onnx.OnnxTestModel.attr;
import static dev.kiln.frontend.onnx.OnnxTestModel.in;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The integer computations of exports: embedding lookups, position ids, casts, expanded masks; and what is refused by name. */
class IntegerImportTest {
    private static Graph load(OnnxTestModel m) { return OnnxImporter.load(m.build(), "ints.onnx", Map.of()); }

    @Test
    void embeddingLookupIsAGatherOfTheIdsWithOnnxNegativeIndices() {
        OnnxTestModel m = new OnnxTestModel().typedInput("ids", INT64, 2, 3)
                .floats("w", new long[]{4, 2}, 0, 1, 10, 11, 20, 21, 30, 31)
                .node("Gather", in("w", "ids"), in("y")).output("y");
        Graph g = load(m);
        assertTrue(g.nodes().getFirst().op() instanceof Gather ga && ga.axis() == 0, g.toString());
        HostTensor y = ReferenceInterpreter.run(g, HostTensor.ofLongs(new long[]{0, 3, -1, 2, -4, 1}, 2, 3));
        assertArrayEquals(new float[]{0, 1, 30, 31, 30, 31, 20, 21, 0, 1, 10, 11}, y.data());
        var e = assertThrows(InvalidIndexException.class, () -> ReferenceInterpreter.run(g, HostTensor.ofLongs(new long[]{0, 4, 0, 0, 0, 0}, 2, 3)));
        assertTrue(e.getMessage().contains("gather index 4 (element 1 of the indices) is out of range") && e.getMessage().contains("[-4, 4)"), e.getMessage());
    }

    @Test
    void positionIdsFromIdsAreCumSumOfTheMaskWithoutTruncatingIntegers() {
        // RoBERTa: (cumsum(ids != pad).int() * mask).long() + pad
        OnnxTestModel m = new OnnxTestModel().typedInput("ids", INT64, 1, 5)
                .ints("pad", new long[0], 1).ints("axis", new long[0], 1)
                .node("Equal", in("ids", "pad"), in("eq")).node("Not", "eq", "ne")
                .node("Cast", "ne", "mask", attr("to", (long) INT32))
                .node("CumSum", in("mask", "axis"), in("cs"))
                .node("Mul", in("cs", "mask"), in("m")).node("Cast", "m", "ml", attr("to", (long) INT64))
                .node("Add", in("ml", "pad"), in("y")).output("y");
        Graph g = load(m);
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof CumSum c && c.axis() == 1), g.toString());
        assertTrue(g.nodes().stream().noneMatch(n -> n.op() instanceof Unary u && u.kind() == Unary.Kind.TRUNC), "integers are not truncated: " + g);
        HostTensor y = ReferenceInterpreter.run(g, HostTensor.ofLongs(new long[]{7, 9, 4, 1, 1}, 1, 5));
        assertArrayEquals(new float[]{2, 3, 4, 1, 1}, y.data());
    }

    @Test
    void castOfFloatsToAnIntegerTypeTruncatesTowardZero() {
        OnnxTestModel m = new OnnxTestModel().input("x", 4).node("Cast", "x", "i", attr("to", (long) INT64))
                .node("Cast", "i", "y", attr("to", (long) FLOAT)).output("y");
        Graph g = load(m);
        assertArrayEquals(new float[]{-2, 2, 0, -0f}, ReferenceInterpreter.run(g, HostTensor.of(new float[]{-2.7f, 2.7f, 0.2f, -0.5f}, 4)).data());
    }

    @Test
    void expandOfAComputedMaskIsAProductWithOnes() {
        OnnxTestModel m = new OnnxTestModel().input("x", 2, 1, 3).ints("shape", new long[]{3}, 2, 4, 3)
                .node("Expand", in("x", "shape"), in("y")).output("y");
        Graph g = load(m);
        assertTrue(g.nodes().getFirst().op() instanceof Binary b && b.kind() == Binary.Kind.MUL, g.toString());
        HostTensor x = HostTensor.normal(Shape.of(2, 1, 3), 1);
        HostTensor y = ReferenceInterpreter.run(g, x);
        assertEquals(Shape.of(2, 4, 3), y.shape());
        for (int b = 0; b < 2; b++) for (int k = 0; k < 4; k++) for (int j = 0; j < 3; j++) assertEquals(x.get(b, 0, j), y.get(b, k, j));
    }

    @Test
    void runtimeRangeIntegerDivAndComputedCumSumAxisAreRefusedByName() {
        OnnxTestModel m = new OnnxTestModel().typedInput("n", INT64, 1).typedInput("ids", INT64, 2, 3).typedInput("ax", INT64, 1)
                .ints("zero", new long[0], 0).ints("one", new long[0], 1).ints("two", new long[0], 2)
                .node("Squeeze", "n", "ns")
                .node("Range", in("zero", "ns", "one"), in("r"))
                .node("Div", in("ids", "two"), in("q"))
                .node("Squeeze", "ax", "axs")
                .node("CumSum", in("ids", "axs"), in("c"))
                .output("r").output("q").output("c");
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> load(m));
        String msg = e.getMessage();
        assertTrue(msg.contains("3 nodes"), msg);
        assertTrue(msg.contains("Range (node 'range_1', opset 17): Kiln evaluates Range only on constants"), msg);
        assertTrue(msg.contains("Div (node 'div_2', opset 17): a Div of integer tensors (which truncates) is not supported"), msg);
        assertTrue(msg.contains("CumSum (node 'cumsum_4', opset 17): its axis input"), msg);
    }
}
