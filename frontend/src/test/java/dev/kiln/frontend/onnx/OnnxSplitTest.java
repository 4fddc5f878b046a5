package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Slice;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxLoweringTest.load;
import static dev.kiln.frontend.onnx.OnnxLoweringTest.seq;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** Hand-written ONNX Split nodes: each way of giving the sizes, checked element by element, and the malformed ones. */
class OnnxSplitTest {
    private static final float[] X = seq(2 * 7, 1);

    /** x [2, 7] split along axis 1 into outputs a, b, c. */
    private static OnnxTestModel split(OnnxTestModel m, String[] in, Proto... attrs) {
        return m.input("x", 2, 7).node("Split", in, in("a", "b", "c"), attrs).output("a").output("b").output("c");
    }

    /** Each output is the columns [from, from + size) of x, in order. */
    private static void assertParts(Graph g, int... sizes) {
        Map<String, HostTensor> r = ReferenceInterpreter.run(g, Map.of("x", HostTensor.of(X, 2, 7)));
        String[] names = {"a", "b", "c"};
        int from = 0;
        for (int p = 0; p < 3; p++) {
            HostTensor t = r.get(names[p]);
            assertEquals(Shape.of(2, sizes[p]), t.shape(), names[p]);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < sizes[p]; j++) assertEquals(X[i * 7 + from + j], t.get(i, j), 0, names[p] + "[" + i + "," + j + "]");
            from += sizes[p];
        }
        assertEquals(3, g.nodes().stream().filter(n -> n.op() instanceof Slice).count());
    }

    @Test
    void splitSizesAsAnInputAsOpset13GivesThem() {
        assertParts(load(split(new OnnxTestModel().ints("s", new long[]{3}, 2, 4, 1), in("x", "s"), attr("axis", 1L))), 2, 4, 1);
    }

    @Test
    void splitSizesAsAnAttributeAsBeforeOpset13GiveThem() {
        assertParts(load(split(new OnnxTestModel(), in("x"), attr("axis", -1L), attrInts("split", 1, 5, 1))), 1, 5, 1);
    }

    @Test
    void numOutputsGivesCeilSizedPartsAndASmallerLastOne() {
        // opset 18's form (Kiln refuses opset-18 files as a whole for now; the node itself imports)
        assertParts(load(split(new OnnxTestModel(), in("x"), attr("axis", 1L), attr("num_outputs", 3L))), 3, 3, 1);
    }

    @Test
    void sizesThatDoNotAddUpOrAnUnevenEqualSplitAreMalformed() {
        var sum = assertThrows(MalformedFileException.class, () ->
                load(split(new OnnxTestModel().ints("s", new long[]{3}, 2, 2, 1), in("x", "s"), attr("axis", 1L))));
        assertTrue(sum.getMessage().contains("add up to 5") && sum.getMessage().contains("Split"), sum.getMessage());
        var uneven = assertThrows(MalformedFileException.class, () -> load(split(new OnnxTestModel(), in("x"), attr("axis", 1L))));
        assertTrue(uneven.getMessage().contains("3 equal parts"), uneven.getMessage());
        var count = assertThrows(MalformedFileException.class, () -> load(split(new OnnxTestModel(), in("x"), attr("axis", 1L), attr("num_outputs", 2L))));
        assertTrue(count.getMessage().contains("num_outputs 2"), count.getMessage());
    }
}
