package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Transpose;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxFields.FLOAT;
import static dev.kiln.frontend.onnx.OnnxFields.INT64;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** Hand-written models for what PyTorch's exports of the fixtures do not reach: each op form checked against its definition. */
class OnnxLoweringTest {
    static Graph load(OnnxTestModel m, Map<String, Shape> shapes) { return OnnxImporter.load(m.build(), "test.onnx", shapes); }

    static Graph load(OnnxTestModel m) { return load(m, Map.of()); }

    static HostTensor run(Graph g, Map<String, HostTensor> in) { return ReferenceInterpreter.run(g, in).values().iterator().next(); }

    static float[] seq(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.sin(i * 1.3 + 0.2) * scale;
        return v;
    }

    @Test
    void gemmWithTransposedAAlphaBetaAndAFullCMatchesItsDefinition() {
        float[] a = seq(6, 1), b = seq(12, 0.5f), c = seq(8, 2);
        // A [3,2] used transposed: A' [2,3]; B [3,4]; C [2,4]; Y = 2·A'·B + 0.5·C
        Graph g = load(new OnnxTestModel().input("a", 3, 2).floats("b", new long[]{3, 4}, b).floats("c", new long[]{2, 4}, c)
                .node("Gemm", in("a", "b", "c"), in("y"), attr("transA", 1), attr("alpha", 2f), attr("beta", 0.5f)).output("y"));
        HostTensor y = run(g, Map.of("a", HostTensor.of(a, 3, 2)));
        assertEquals(Shape.of(2, 4), y.shape());
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) {
                double acc = 0;
                for (int k = 0; k < 3; k++) acc += a[k * 2 + i] * b[k * 4 + j];
                assertEquals(2 * acc + 0.5 * c[i * 4 + j], y.get(i, j), 1e-5);
            }
    }

    @Test
    void gemmWithTransBAndAVectorBiasIsOneLinear() {
        Graph g = load(new OnnxTestModel().input("x", 2, 3).floats("w", new long[]{4, 3}, seq(12, 1)).floats("b", new long[]{4}, seq(4, 1))
                .node("Gemm", in("x", "w", "b"), in("y"), attr("transB", 1)).output("y"));
        assertEquals(List.of("linear"), g.nodes().stream().map(n -> n.op().mnemonic()).toList());
        assertEquals(List.of("x", "w", "b"), g.nodes().getFirst().inputs());
    }

    @Test
    void matMulLiftsRankOneOperandsAndDropsTheirAxes() {
        float[] v = seq(3, 1), m = seq(12, 1);
        Graph left = load(new OnnxTestModel().input("v", 3).input("m", 3, 4).node("MatMul", in("v", "m"), in("y")).output("y"));
        HostTensor y = run(left, Map.of("v", HostTensor.of(v, 3), "m", HostTensor.of(m, 3, 4)));
        assertEquals(Shape.of(4), y.shape());
        for (int j = 0; j < 4; j++) assertEquals(v[0] * m[j] + v[1] * m[4 + j] + v[2] * m[8 + j], y.get(j), 1e-5);
        Graph right = load(new OnnxTestModel().input("m", 4, 3).input("v", 3).node("MatMul", in("m", "v"), in("y")).output("y"));
        assertEquals(Shape.of(4), right.typeOf("y").shape());
    }

    @Test
    void matMulByAConstantMatrixIsALinearWithTheWeightTransposed() {
        float[] w = seq(6, 1);
        Graph g = load(new OnnxTestModel().input("x", 1, 2).floats("w", new long[]{2, 3}, w).node("MatMul", in("x", "w"), in("y")).output("y"));
        assertEquals("linear", g.nodes().getFirst().op().mnemonic());
        HostTensor wt = g.weight(g.nodes().getFirst().inputs().get(1));
        assertEquals(Shape.of(3, 2), wt.shape());
        assertEquals(w[1 * 3 + 2], wt.get(2, 1));
    }

    @Test
    void shapeArithmeticOnADynamicInputFoldsForTheGivenShape() {
        // y = reshape(x, [N, 2, 3]) / float(N), with N from Shape → Gather → Unsqueeze → Concat and Cast
        OnnxTestModel m = new OnnxTestModel().input("x", "N", 6)
                .node("Shape", "x", "s").ints("zero", new long[0], 0).node("Gather", in("s", "zero"), in("n"))
                .ints("axes", new long[]{1}, 0).node("Unsqueeze", in("n", "axes"), in("n1"))
                .ints("rest", new long[]{2}, 2, 3).node("Concat", in("n1", "rest"), in("shape"), attr("axis", 0))
                .node("Reshape", in("x", "shape"), in("r"))
                .node("Cast", "n", "nf", attr("to", (long) FLOAT))
                .node("Div", in("r", "nf"), in("y")).output("y");
        Graph g = load(m, Map.of("x", Shape.of(4, 6)));
        assertEquals(Shape.of(4, 2, 3), g.typeOf("y").shape());
        HostTensor y = run(g, Map.of("x", HostTensor.full(Shape.of(4, 6), 8f)));
        assertEquals(2f, y.get(3, 1, 2));
        assertTrue(g.nodes().stream().noneMatch(n -> n.op().mnemonic().equals("concat")), "the shape computation is gone:\n" + g);
    }

    @Test
    void rangeConstantOfShapeAndWhereFold() {
        OnnxTestModel m = new OnnxTestModel().input("x", 4)
                .floats("start", new long[0], 0).floats("limit", new long[0], 4).floats("delta", new long[0], 1)
                .node("Range", in("start", "limit", "delta"), in("r"))
                .ints("shape", new long[]{1}, 4).node("ConstantOfShape", in("shape"), in("two"), attrTensor("value", floatTensor("", new long[]{1}, 2f)))
                .floats("one", new long[0], 1).node("Less", in("r", "two"), in("small"))
                .node("Where", in("small", "one", "two"), in("w"))          // [1, 1, 2, 2]
                .node("Mul", in("x", "w"), in("y")).output("y");
        HostTensor y = run(load(m), Map.of("x", HostTensor.of(new float[]{1, 2, 3, 4}, 4)));
        assertArrayEquals(new float[]{1, 2, 6, 8}, y.data());
    }

    @Test
    void convWithSameUpperAutoPadPadsToCeilOfInputOverStride() {
        Graph g = load(new OnnxTestModel().input("x", 1, 1, 5, 5).floats("w", new long[]{1, 1, 3, 3}, seq(9, 1))
                .node("Conv", in("x", "w"), in("y"), attr("auto_pad", "SAME_UPPER"), attrInts("strides", 2, 2)).output("y"));
        assertEquals(Shape.of(1, 1, 3, 3), g.typeOf("y").shape());
        assertEquals(Ints.of(1, 1, 1, 1), ((Conv2d) g.nodes().getFirst().op()).padding());
    }

    @Test
    void lstmInBatchFirstLayoutMatchesTheSequenceFirstLayout() {
        int t = 3, b = 2, in = 2, h = 3;
        float[] x = seq(t * b * in, 1), h0 = seq(b * h, 0.5f), c0 = seq(b * h, -0.5f);
        OnnxTestModel seqFirst = lstm(0, new Object[]{t, b, in}, new Object[]{1, b, h});
        OnnxTestModel batchFirst = lstm(1, new Object[]{b, t, in}, new Object[]{b, 1, h});
        Map<String, HostTensor> r0 = ReferenceInterpreter.run(load(seqFirst), Map.of("x", HostTensor.of(x, t, b, in),
                "h0", HostTensor.of(h0, 1, b, h), "c0", HostTensor.of(c0, 1, b, h)));
        Graph g1 = load(batchFirst);
        assertTrue(g1.nodes().stream().noneMatch(n -> n.op() instanceof Transpose), "layout 1 is the lstm's batchFirst, not a transpose");
        Map<String, HostTensor> r1 = ReferenceInterpreter.run(g1, Map.of("x", new Transpose(new int[]{1, 0, 2}).evaluate(List.of(HostTensor.of(x, t, b, in))),
                "h0", HostTensor.of(h0, b, 1, h), "c0", HostTensor.of(c0, b, 1, h)));
        assertEquals(Shape.of(t, 1, b, h), r0.get("y").shape());
        assertEquals(Shape.of(b, t, 1, h), r1.get("y").shape());
        for (int s = 0; s < t; s++)
            for (int k = 0; k < b; k++)
                for (int j = 0; j < h; j++) assertEquals(r0.get("y").get(s, 0, k, j), r1.get("y").get(k, s, 0, j), 1e-6);
        for (int k = 0; k < b; k++)
            for (int j = 0; j < h; j++) {
                assertEquals(r0.get("y").get(t - 1, 0, k, j), r0.get("yh").get(0, k, j), 0, "Y_h is Y's last step");
                assertEquals(r0.get("yh").get(0, k, j), r1.get("yh").get(k, 0, j), 1e-6);
            }
    }

    private static OnnxTestModel lstm(long layout, Object[] xDims, Object[] stateDims) {
        int h = 3, in = 2;
        return new OnnxTestModel().input("x", xDims).input("h0", stateDims).input("c0", stateDims)
                .floats("W", new long[]{1, 4 * h, in}, seq(4 * h * in, 0.6f)).floats("R", new long[]{1, 4 * h, h}, seq(4 * h * h, 0.4f))
                .floats("B", new long[]{1, 8 * h}, seq(8 * h, 0.3f))
                .node("LSTM", in("x", "W", "R", "B", "", "h0", "c0"), in("y", "yh"), attr("hidden_size", (long) h), attr("layout", layout))
                .output("y").output("yh");
    }

    @Test
    void unsupportedFormsOfSupportedOpsAreAllListedTogether() {
        OnnxTestModel m = new OnnxTestModel().input("x", 1, 2, 4, 4, 4).input("v", 2, 6)
                .floats("w1", new long[]{2, 2, 3, 3, 3}, seq(108, 1)).node("Conv", in("x", "w1"), in("c1"))        // 3-D conv
                .ints("s", new long[]{1}, -1).ints("e", new long[]{1}, -7).ints("ax", new long[]{1}, 1).ints("st", new long[]{1}, -1)
                .node("Slice", in("v", "s", "e", "ax", "st"), in("rev"))                                             // reversal
                .node("Celu", "v", "vi")                                                                              // no importer
                .node("Relu", "vi", "vr")                                                                             // downstream: not checked
                .ints("pp", new long[]{4}, 0, 1, 0, 1).node("Pad", in("v", "pp"), in("p"), attr("mode", "wrap"))     // opset 19's wrap mode
                .output("c1").output("rev").output("vr").output("p");
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> load(m));
        String msg = e.getMessage();
        assertTrue(msg.contains("4 nodes"), msg);
        assertTrue(msg.contains("Conv (node 'conv_0', opset 17): only 1-D and 2-D convolution"), msg);
        assertTrue(msg.contains("Slice (node 'slice_1', opset 17): negative slice steps"), msg);
        assertTrue(msg.contains("Celu (node 'celu_2', opset 17)"), msg);
        assertTrue(msg.contains("Pad (node 'pad_4', opset 17): pad mode 'wrap'"), msg);
        String[] parts = msg.split("could not be checked");
        assertFalse(parts[0].contains("relu_3"), msg);
        assertTrue(parts.length == 2 && parts[1].contains("Relu (node 'relu_3', opset 17)"), msg);
    }

    @Test
    void unknownOpsAreReportedBeforeMissingInputShapes() {
        OnnxTestModel m = new OnnxTestModel().input("x", "N", 3).node("Celu", "x", "y").output("y");
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> load(m));
        assertTrue(e.getMessage().contains("Celu (node 'celu_0', opset 17)"), e.getMessage());
    }

    @Test
    void integerInputsAreI64AndI32ButBoolAndUint8InputsAreShapeErrors() {
        OnnxTestModel m = new OnnxTestModel().typedInput("ids", INT64, 1, 4).typedInput("pos", OnnxFields.INT32, 1, 4)
                .node("Add", in("ids", "pos"), in("y")).output("y");
        var g = load(m);
        assertEquals("i64[1,4]", g.inputs().get(0).type().toString());
        assertEquals("i32[1,4]", g.inputs().get(1).type().toString());
        for (int t : new int[]{OnnxFields.BOOL, OnnxFields.UINT8}) {
            OnnxTestModel bad = new OnnxTestModel().typedInput("m", t, 1, 4).node("Identity", "m", "y").output("y");
            var e = assertThrowsExactly(ShapeException.class, () -> load(bad));
            assertTrue(e.getMessage().contains("input 'm' is a tensor of " + OnnxFields.dataTypeName(t))
                    && e.getMessage().contains("float32, int64 and int32"), e.getMessage());
        }
    }

    @Test
    void aNodeReadingAnUndefinedValueNamesTheNode() {
        OnnxTestModel m = new OnnxTestModel().input("x", 2).node("Relu", "nowhere", "y").output("y");
        var e = assertThrowsExactly(MalformedFileException.class, () -> load(m));
        assertTrue(e.getMessage().contains("node 'relu_0' (Relu) reads 'nowhere'"), e.getMessage());
    }

    @Test
    void opsetsThirteenToSeventeenAreAccepted() {
        for (long v = 12; v <= 18; v++) {
            OnnxTestModel m = new OnnxTestModel().opset(v).input("x", 2).node("Relu", "x", "y").output("y");
            if (v >= 13 && v <= 17) assertEquals(1, load(m).nodes().size());
            else assertThrowsExactly(UnsupportedOpException.class, () -> load(m), "opset " + v);
        }
    }
}
