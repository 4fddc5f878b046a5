package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Ints;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.ConvTranspose2d;
import org.junit.jupiter.api.Test;

import static dev.kiln.frontend.onnx.OnnxLoweringTest.load;
import static dev.kiln.frontend.onnx.OnnxLoweringTest.seq;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** ONNX ConvTranspose: each way of giving the padding, and the forms Kiln refuses with a message that says why. */
class ConvTransposeImportTest {
    /** x [1,2,4,5], weight [2,3,3,3] (O = 3·group), optional bias, and the attributes given. */
    private static OnnxTestModel model(int group, Proto... attrs) {
        return new OnnxTestModel().input("x", 1, 2, 4, 5).floats("w", new long[]{2, 3 / group, 3, 3}, seq(2 * (3 / group) * 9, 0.5f))
                .floats("b", new long[]{3}, seq(3, 1)).node("ConvTranspose", in("x", "w", "b"), in("y"), attrs).output("y");
    }

    private static ConvTranspose2d op(Graph g) { return (ConvTranspose2d) g.nodes().getFirst().op(); }

    @Test
    void explicitPadsOutputPaddingAndDilations() {
        Graph g = load(model(1, attrInts("strides", 2, 3), attrInts("pads", 1, 0, 0, 2), attrInts("output_padding", 1, 2),
                attrInts("dilations", 2, 1), attrInts("kernel_shape", 3, 3)));
        ConvTranspose2d t = op(g);
        assertEquals(new ConvTranspose2d(Ints.of(2, 3), Ints.of(1, 0, 0, 2), Ints.of(1, 2), Ints.of(2, 1), 1), t);
        // (4−1)·2 − 1 + 2·2 + 1 + 1 = 11; (5−1)·3 − 2 + 2 + 2 + 1 = 15
        assertEquals(Shape.of(1, 3, 11, 15), g.typeOf("y").shape());
    }

    @Test
    void outputShapeAndSameAutoPadCropToTheAskedSize() {
        // full result 9×11 at stride 2; asking for 8×10 crops one row and column: at the end for SAME_UPPER, the start otherwise
        Graph upper = load(model(1, attrInts("strides", 2, 2), attrInts("output_shape", 8, 10), attr("auto_pad", "SAME_UPPER")));
        assertEquals(Ints.of(0, 0, 1, 1), op(upper).padding());
        Graph plain = load(model(1, attrInts("strides", 2, 2), attrInts("output_shape", 1, 3, 8, 10)));
        assertEquals(Ints.of(1, 1, 0, 0), op(plain).padding());
        Graph same = load(model(1, attrInts("strides", 2, 2), attr("auto_pad", "SAME_LOWER")));
        assertEquals(Shape.of(1, 3, 8, 10), same.typeOf("y").shape());
        assertEquals(Ints.of(1, 1, 0, 0), op(same).padding());
        assertEquals(Ints.of(0, 0, 0, 0), op(load(model(1, attrInts("pads", 1, 1, 1, 1), attr("auto_pad", "VALID")))).padding());
    }

    @Test
    void groupsSplitTheChannels() {
        Graph g = load(new OnnxTestModel().input("x", 1, 4, 3, 3).floats("w", new long[]{4, 1, 2, 2}, seq(16, 1))
                .node("ConvTranspose", in("x", "w"), in("y"), attr("group", 4L), attrInts("strides", 2, 2)).output("y"));
        assertEquals(4, op(g).groups());
        assertEquals(Shape.of(1, 4, 6, 6), g.typeOf("y").shape());
    }

    @Test
    void oneAndThreeDimensionalTransposedConvsAreRefusedByName() {
        var e1 = assertThrows(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 1, 2, 5)
                .floats("w", new long[]{2, 3, 3}, seq(18, 1)).node("ConvTranspose", in("x", "w"), in("y")).output("y")));
        assertTrue(e1.getMessage().contains("1-D transposed convolution (ConvTranspose1d) is not supported"), e1.getMessage());
        var e3 = assertThrows(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 1, 2, 3, 3, 3)
                .floats("w", new long[]{2, 3, 2, 2, 2}, seq(48, 1)).node("ConvTranspose", in("x", "w"), in("y")).output("y")));
        assertTrue(e3.getMessage().contains("3-D transposed convolution (ConvTranspose3d) is not supported"), e3.getMessage());
    }

    @Test
    void badAttributesAreMalformedWithTheValues() {
        var op = assertThrows(MalformedFileException.class, () -> load(model(1, attrInts("strides", 2, 2), attrInts("output_padding", 2, 0))));
        assertTrue(op.getMessage().contains("output_padding [2, 0] must be non-negative and below the stride"), op.getMessage());
        var ks = assertThrows(MalformedFileException.class, () -> load(model(1, attrInts("kernel_shape", 2, 2))));
        assertTrue(ks.getMessage().contains("kernel_shape [2, 2] does not match the weight [2, 3, 3, 3]"), ks.getMessage());
        var w = assertThrows(MalformedFileException.class, () -> load(new OnnxTestModel().input("x", 1, 2, 4, 4)
                .floats("w", new long[]{3, 2, 3, 3}, seq(54, 1)).node("ConvTranspose", in("x", "w"), in("y")).output("y")));
        assertTrue(w.getMessage().contains("must be [C, O/group, kH, kW] with C = 2"), w.getMessage());
        var big = assertThrows(UnsupportedOpException.class, () -> load(model(1, attrInts("output_shape", 12, 7))));
        assertTrue(big.getMessage().contains("exceeds the full transposed-convolution result 6"), big.getMessage());
    }
}
