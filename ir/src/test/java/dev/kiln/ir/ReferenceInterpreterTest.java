package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.ScalarMath;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferenceInterpreterTest {
    private static final float NAN = Float.NaN, NEG_INF = Float.NEGATIVE_INFINITY;

    /** Runs one op on the given operands through a one-node graph. */
    private static HostTensor run(Op op, HostTensor... operands) {
        GraphBuilder b = new GraphBuilder("one");
        Map<String, HostTensor> in = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < operands.length; i++) {
            names.add(b.input("in" + i, operands[i].type()));
            in.put("in" + i, operands[i]);
        }
        b.output(b.add("out", op, names, "test"));
        return ReferenceInterpreter.run(Verifier.verify(b.build()), in).get("out");
    }

    private static HostTensor t(float[] data, int... dims) { return HostTensor.of(data, dims); }

    private static void assertTensor(HostTensor actual, float[] expected, int... dims) {
        assertEquals(Shape.of(dims), actual.shape());
        assertArrayEquals(expected, actual.data(), 1e-6f);
    }

    @Test
    void binaryBroadcastsFromTheRight() {
        HostTensor a = t(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        // [2,3] + [3]: each row plus [10,20,30]
        assertTensor(run(new Binary(Binary.Kind.ADD), a, t(new float[]{10, 20, 30}, 3)), new float[]{11, 22, 33, 14, 25, 36}, 2, 3);
        // [2,3] − [2,1]: row i minus i+1
        assertTensor(run(new Binary(Binary.Kind.SUB), a, t(new float[]{1, 2}, 2, 1)), new float[]{0, 1, 2, 2, 3, 4}, 2, 3);
        // [2,1] / [1,3] → [2,3]: out[i][j] = a[i] / b[j]
        assertTensor(run(new Binary(Binary.Kind.DIV), t(new float[]{1, 2}, 2, 1), t(new float[]{1, 2, 4}, 1, 3)),
                new float[]{1, 0.5f, 0.25f, 2, 1, 0.5f}, 2, 3);
        // [2,1,2] · [3,1] → [2,3,2]: out[i][j][k] = a[i][k] · b[j]
        assertTensor(run(new Binary(Binary.Kind.MUL), t(new float[]{1, 2, 3, 4}, 2, 1, 2), t(new float[]{10, 20, 30}, 3, 1)),
                new float[]{10, 20, 20, 40, 30, 60, 30, 40, 60, 80, 90, 120}, 2, 3, 2);
        // a scalar broadcasts against anything
        assertTensor(run(new Binary(Binary.Kind.MUL), HostTensor.of(Shape.scalar(), new float[]{-2}), a),
                new float[]{-2, -4, -6, -8, -10, -12}, 2, 3);
    }

    @Test
    void transposePermutesAxes() {
        assertTensor(run(new Transpose(new int[]{1, 0}), t(new float[]{1, 2, 3, 4, 5, 6}, 2, 3)), new float[]{1, 4, 2, 5, 3, 6}, 3, 2);
        // x[j][k][i] = 12j + 4k + i (arange over [2,3,4]); perm [2,0,1]: out[i][j][k] = x[j][k][i]
        float[] x = new float[24];
        for (int i = 0; i < 24; i++) x[i] = i;
        assertTensor(run(new Transpose(new int[]{2, 0, 1}), t(x, 2, 3, 4)), new float[]{
                0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}, 4, 2, 3);
    }

    @Test
    void sliceTakesEveryStepthElement() {
        float[] x = new float[21]; // row r of [3,7] holds 7r .. 7r+6
        for (int i = 0; i < 21; i++) x[i] = i;
        // rows 0,2 (start 0, step 2, end 3); cols 1,4 (start 1, step 3, end 7: 7 is excluded)
        Slice s = new Slice(new int[]{0, 1}, new int[]{0, 1}, new int[]{3, 7}, new int[]{2, 3});
        assertTensor(run(s, t(x, 3, 7)), new float[]{1, 4, 15, 18}, 2, 2);
        // cols 0,3,6 of row 1 only
        Slice row = new Slice(new int[]{0, 1}, new int[]{1, 0}, new int[]{2, 7}, new int[]{5, 3});
        assertTensor(run(row, t(x, 3, 7)), new float[]{7, 10, 13}, 1, 3);
    }

    @Test
    void concatJoinsAlongAxisOne() {
        HostTensor a = t(new float[]{1, 2, 3, 4}, 2, 1, 2);
        HostTensor b = t(new float[]{5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 2);
        // batch 0: [1,2] then [5,6],[7,8]; batch 1: [3,4] then [9,10],[11,12]
        assertTensor(run(new Concat(1), a, b), new float[]{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, 2, 3, 2);
    }

    @Test
    void reshapeKeepsRowMajorOrder() {
        float[] x = {1, 2, 3, 4, 5, 6};
        assertTensor(run(new Reshape(new int[]{3, 1, 2}), t(x, 2, 3)), x, 3, 1, 2);
        assertTensor(run(new Reshape(new int[]{}), t(new float[]{7}, 1, 1)), new float[]{7});
    }

    @Test
    void globalAvgPoolAveragesEachChannel() {
        // channel 0: (1+2+3+4)/4 = 2.5; channel 1: (10+20+30−60)/4 = 0
        assertTensor(run(Reduce.globalAvgPool(), t(new float[]{1, 2, 3, 4, 10, 20, 30, -60}, 1, 2, 2, 2)), new float[]{2.5f, 0}, 1, 2, 1, 1);
    }

    @Test
    void scaleMultipliesByTheFactor() {
        assertTensor(run(new Scale(-0.5f), t(new float[]{2, -4, 0, 3}, 4)), new float[]{-1, 2, -0, -1.5f}, 4);
    }

    @Test
    void avgPoolDivisorWithAndWithoutPadding() {
        // x = [[1,2,3],[4,5,6],[7,8,9]], kernel 2, stride 2, padding 1 → 2x2 windows over rows/cols {-1,0} and {1,2}:
        // (0,0): only 1 is inside; (0,1): 2+3 = 5; (1,0): 4+7 = 11; (1,1): 5+6+8+9 = 28
        HostTensor x = t(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        int[] k = {2, 2}, s = {2, 2}, p = {1, 1, 1, 1};
        // counting padding, every window divides by 4
        assertTensor(run(new AvgPool2d(k, s, p, true), x), new float[]{0.25f, 1.25f, 2.75f, 7}, 1, 1, 2, 2);
        // not counting padding: by 1, 2, 2, 4 in-bounds elements
        assertTensor(run(new AvgPool2d(k, s, p, false), x), new float[]{1, 2.5f, 5.5f, 7}, 1, 1, 2, 2);
        // kernel 3, stride 1, padding 1: corner 1+2+4+5 = 12, edge 1+..+6 = 21, centre 45
        int[] k3 = {3, 3}, s1 = {1, 1};
        HostTensor incl = run(new AvgPool2d(k3, s1, p, true), x), excl = run(new AvgPool2d(k3, s1, p, false), x);
        assertEquals(12f / 9, incl.get(0, 0, 0, 0), 1e-6f);
        assertEquals(21f / 9, incl.get(0, 0, 0, 1), 1e-6f);
        assertEquals(5f, incl.get(0, 0, 1, 1), 1e-6f);
        assertEquals(3f, excl.get(0, 0, 0, 0), 1e-6f);
        assertEquals(3.5f, excl.get(0, 0, 0, 1), 1e-6f);
        assertEquals(5f, excl.get(0, 0, 1, 1), 1e-6f);
    }

    @Test
    void softmaxHandlesLargeValuesInfinitiesAndNaN() {
        float ln2 = (float) Math.log(2), ln5 = (float) Math.log(5);
        HostTensor x = t(new float[]{
                0, ln2, ln5,                // e^x = 1, 2, 5 → 1/8, 2/8, 5/8
                1000, 1000, 1000,           // large but equal: max is subtracted first → 1/3 each
                NEG_INF, 0, NEG_INF,        // −∞ gets weight 0
                NEG_INF, NEG_INF, NEG_INF,  // nothing finite: NaN, as in PyTorch
                1, NAN, 2}, 5, 3);          // NaN poisons the whole row
        float third = 1f / 3;
        assertTensor(run(new Softmax(1), x), new float[]{
                0.125f, 0.25f, 0.625f, third, third, third, 0, 1, 0, NAN, NAN, NAN, NAN, NAN, NAN}, 5, 3);
        // along axis 0: columns of [[0, ln3],[ln3, 0]] → [1/4, 3/4] and [3/4, 1/4]
        float ln3 = (float) Math.log(3);
        assertTensor(run(new Softmax(0), t(new float[]{0, ln3, ln3, 0}, 2, 2)), new float[]{0.25f, 0.75f, 0.75f, 0.25f}, 2, 2);
    }

    @Test
    void convEpilogueAppliesItsPostOpsInOrder() {
        // 1x1 conv, weight 1, bias 0.5, input [2, −3] → conv = [2.5, −2.5]
        HostTensor x = t(new float[]{2, -3}, 1, 1, 1, 2), w = t(new float[]{1}, 1, 1, 1, 1), bias = t(new float[]{0.5f}, 1);
        int[] one = {1, 1}, none = {0, 0, 0, 0};
        // ADD: relu([2.5, −2.5] + [−3, 3]) = relu([−0.5, 0.5]) = [0, 0.5]   (act first would give [−0.5, 3])
        Conv2d add = new Conv2d(one, none, one, 1, Epilogue.of(Epilogue.ADD, Epilogue.act(Act.RELU)));
        assertTensor(run(add, x, w, bias, t(new float[]{-3, 3}, 1, 1, 1, 2)), new float[]{0, 0.5f}, 1, 1, 1, 2);
        // MUL: relu([2.5, −2.5]) · [−2, 4] = [−5, 0]   (multiplying first would give relu([−5, −10]) = [0, 0])
        Conv2d mul = new Conv2d(one, none, one, 1, Epilogue.of(Act.RELU).then(Epilogue.MUL));
        assertTensor(run(mul, x, w, bias, t(new float[]{-2, 4}, 1, 1, 1, 2)), new float[]{-5, 0}, 1, 1, 1, 2);
        // no extra: leaky(0.1) of [2.5, −2.5] = [2.5, −0.25]
        Conv2d leaky = new Conv2d(one, none, one, 1, Epilogue.of(Act.leakyRelu(0.1f)));
        assertTensor(run(leaky, x, w, bias), new float[]{2.5f, -0.25f}, 1, 1, 1, 2);
        // two activations then both joins: clip(0,1) of leaky(0.1) = [1, 0]; · [−2, 4] = [−2, 0]; + [−2, 4] = [−4, 4]
        Conv2d chain = new Conv2d(one, none, one, 1, Epilogue.of(Act.leakyRelu(0.1f)).then(Act.clip(0, 1)).then(Epilogue.MUL).then(Epilogue.ADD));
        assertTensor(run(chain, x, w, bias, t(new float[]{-2, 4}, 1, 1, 1, 2)), new float[]{-4, 4}, 1, 1, 1, 2);
    }

    @Test
    void fusedDepthwisePointwiseEqualsTheUnfusedChain() {
        int c = 3, o = 5;
        int[] stride = {2, 1}, padding = {1, 0, 2, 1}, dilation = {1, 2};
        GraphBuilder b = new GraphBuilder("dwpw");
        String x = b.input("x", TensorType.f32(2, c, 7, 6));
        String dw = b.constant("dw", HostTensor.normal(Shape.of(c, 1, 3, 3), 1));
        String dwb = b.constant("dwb", HostTensor.normal(Shape.of(c), 2));
        String pw = b.constant("pw", HostTensor.normal(Shape.of(o, c, 1, 1), 3));
        String pwb = b.constant("pwb", HostTensor.normal(Shape.of(o), 4));
        String mid = b.add(new Conv2d(stride, padding, dilation, c), List.of(x, dw, dwb), "dw");
        mid = b.add(Unary.of(Unary.Kind.LEAKY_RELU, 0.2f), List.of(mid), "dw.act");
        String y = b.add(FusedDwPwConv.POINTWISE, List.of(mid, pw, pwb), "pw");
        String extra = b.constant("extra", HostTensor.normal(b.typeOf(y).shape(), 5));
        String unfused = b.add(Unary.of(Unary.Kind.GELU), List.of(b.add(new Binary(Binary.Kind.ADD), List.of(y, extra), "res")), "act");
        FusedDwPwConv op = new FusedDwPwConv(stride, padding, dilation, Act.leakyRelu(0.2f), Epilogue.of(Epilogue.ADD, Epilogue.act(Act.GELU)));
        String fused = b.add(op, List.of(x, dw, dwb, pw, pwb, extra), "fused");
        Map<String, HostTensor> out = ReferenceInterpreter.run(Verifier.verify(b.output(unfused).output(fused).build()),
                Map.of(x, HostTensor.normal(Shape.of(2, c, 7, 6), 6)));
        assertTrue(out.get(fused).allClose(out.get(unfused), 1e-5, 1e-6), out.get(fused) + " vs " + out.get(unfused));
    }

    /** q, k, v, out stored channel-major (true) or sequence-major; combine ADD with a SIGMOID act. */
    @ParameterizedTest(name = "qCM={0} kCM={1} vCM={2} outCM={3}")
    @CsvSource({"false,false,false,false", "true,true,true,true", "true,false,true,false", "false,true,false,true"})
    void fusedAttentionEqualsTheUnfusedChain(boolean qcm, boolean kcm, boolean vcm, boolean ocm) {
        int batch = 2, m = 3, n = 5, d = 4, e = 2;
        float scale = (float) (1 / Math.sqrt(d));
        int[] swap = {0, 2, 1};
        GraphBuilder b = new GraphBuilder("attn");
        String q = b.input("q", qcm ? TensorType.f32(batch, d, m) : TensorType.f32(batch, m, d));
        String k = b.input("k", kcm ? TensorType.f32(batch, d, n) : TensorType.f32(batch, n, d));
        String v = b.input("v", vcm ? TensorType.f32(batch, e, n) : TensorType.f32(batch, n, e));
        HostTensor maskData = HostTensor.normal(Shape.of(batch, m, n), 7);
        maskData.set(NEG_INF, 0, 1, 2);
        maskData.set(NEG_INF, 1, 2, 0);
        maskData.set(NEG_INF, 1, 2, 4);
        String mask = b.constant("mask", maskData);
        String extra = b.constant("extra", HostTensor.normal(ocm ? Shape.of(batch, e, m) : Shape.of(batch, m, e), 8));
        // unfused, in logical layout: transpose what is stored channel-major
        String ql = qcm ? b.add(new Transpose(swap), List.of(q), "q.t") : q;
        String kl = kcm ? b.add(new Transpose(swap), List.of(k), "k.t") : k;
        String vl = vcm ? b.add(new Transpose(swap), List.of(v), "v.t") : v;
        String s = b.add(new MatMul(), List.of(ql, b.add(new Transpose(swap), List.of(kl), "kT")), "scores");
        s = b.add(new Binary(Binary.Kind.ADD), List.of(b.add(new Scale(scale), List.of(s), "scale"), mask), "mask");
        String o = b.add(new MatMul(), List.of(b.add(new Softmax(2), List.of(s), "softmax"), vl), "pv");
        if (ocm) o = b.add(new Transpose(swap), List.of(o), "out.t");
        String unfused = b.add(Unary.of(Unary.Kind.SIGMOID), List.of(b.add(new Binary(Binary.Kind.ADD), List.of(o, extra), "res")), "act");
        FusedAttention op = new FusedAttention(scale, true, qcm, kcm, vcm, ocm, Epilogue.of(Epilogue.ADD, Epilogue.act(Act.SIGMOID)));
        String fused = b.add(op, List.of(q, k, v, mask, extra), "fused");
        Graph g = Verifier.verify(b.output(unfused).output(fused).build());
        Map<String, HostTensor> out = ReferenceInterpreter.run(g, RandomGraphs.inputsFor(g, 9));
        assertEquals(b.typeOf(unfused), b.typeOf(fused));
        assertTrue(out.get(fused).allClose(out.get(unfused), 1e-5, 1e-6), out.get(fused) + " vs " + out.get(unfused));
    }

    @Test
    void erfMatchesKnownValues() {
        assertEquals(0.0, ScalarMath.erf(0), 0);
        assertEquals(0.5204998778130465, ScalarMath.erf(0.5), 1e-14);
        assertEquals(0.8427007929497149, ScalarMath.erf(1), 1e-14);
        assertEquals(0.9953222650189527, ScalarMath.erf(2), 1e-14);
        assertEquals(0.9995930479825550, ScalarMath.erf(2.5), 1e-14);
        assertEquals(0.9999779095030014, ScalarMath.erf(3), 1e-14);
        assertEquals(-0.9999999845827421, ScalarMath.erf(-4), 1e-14);
        assertEquals(-0.8427007929497149, ScalarMath.erf(-1), 1e-14);
        assertEquals(1.0, ScalarMath.erf(Double.POSITIVE_INFINITY), 0);
        assertTrue(Double.isNaN(ScalarMath.erf(Double.NaN)));
        // continuous where the series hands over to the continued fraction
        assertEquals(ScalarMath.erf(Math.nextDown(2.5)), ScalarMath.erf(2.5), 1e-14);
    }

    // ---- interpreter errors name the input and the shapes ----

    private static Graph twoInputs() {
        GraphBuilder b = new GraphBuilder("pair");
        String x = b.input("x", TensorType.f32(2, 3)), y = b.input("y", TensorType.f32(3));
        return b.output(b.add(new Binary(Binary.Kind.ADD), List.of(x, y), "sum")).build();
    }

    @Test
    void missingInputIsNamedWithItsType() {
        KilnException e = assertThrows(KilnException.class, () -> ReferenceInterpreter.run(twoInputs(), Map.of("x", HostTensor.zeros(2, 3))));
        assertEquals("missing input 'y' (expected f32[3]); given [x]", e.getMessage());
    }

    @Test
    void wrongInputShapeNamesBothShapes() {
        ShapeException e = assertThrows(ShapeException.class, () -> ReferenceInterpreter.run(twoInputs(),
                Map.of("x", HostTensor.zeros(3, 2), "y", HostTensor.zeros(3))));
        assertEquals("input 'x' has shape [3,2] but the graph expects [2,3]", e.getMessage());
    }

    @Test
    void unknownInputNameIsRejected() {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        in.put("x", HostTensor.zeros(2, 3));
        in.put("y", HostTensor.zeros(3));
        in.put("z", HostTensor.zeros(1));
        KilnException e = assertThrows(KilnException.class, () -> ReferenceInterpreter.run(twoInputs(), in));
        assertEquals("unknown input 'z'; the graph's inputs are [x, y]", e.getMessage());
    }

    @Test
    void singleTensorShortcutNeedsOneInputAndOneOutput() {
        KilnException e = assertThrows(KilnException.class, () -> ReferenceInterpreter.run(twoInputs(), HostTensor.zeros(2, 3)));
        assertTrue(e.getMessage().contains("has 2 inputs and 1 outputs"), e.getMessage());
    }

    @Test
    void unboundConstantAndBadNodeAreNamed() {
        GraphBuilder b = new GraphBuilder("g");
        String x = b.input("x", TensorType.f32(2));
        String w = b.declareConstant("w", TensorType.f32(2), null);
        Graph unbound = b.output(b.add(new Binary(Binary.Kind.MUL), List.of(x, w), "gate")).build();
        KilnException e = assertThrows(KilnException.class, () -> ReferenceInterpreter.run(unbound, HostTensor.zeros(2)));
        assertEquals("graph @g: constant %w has no data bound", e.getMessage());

        // a node whose operands do not fit (unverified graph): the error names the node
        GraphBuilder bad = new GraphBuilder("bad");
        String a = bad.input("a", TensorType.f32(2, 3));
        bad.addTyped(new Node("m", new MatMul(), List.of(a, a), TensorType.f32(2, 3), "head.fc"));
        ShapeException s = assertThrows(ShapeException.class, () -> ReferenceInterpreter.run(bad.output("m").build(), HostTensor.zeros(2, 3)));
        assertTrue(s.getMessage().startsWith("at mat_mul %m (head.fc): "), s.getMessage());
    }
}
