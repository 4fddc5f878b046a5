package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The element-wise, data-movement, pooling and softmax ops against the reference interpreter. */
class ElementwiseKernelsTest {
    @Test
    void everyUnaryKindAndScale() {
        TestGraph t = new TestGraph("unary");
        String x = t.input(3, 17);
        String positive = t.op(Unary.of(Unary.Kind.EXP), x);   // where log, sqrt, x^1.5 are defined
        String[] outs = new String[Unary.Kind.values().length];
        int i = 0;
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (Unary.Kind k : Unary.Kind.values()) {
            if (k == Unary.Kind.NONE) continue;
            Act act = dev.kiln.ir.testing.RandomActs.withParams(k, r::nextInt);
            outs[i++] = t.op(new Unary(act), k.total(act.a()) ? x : positive);
        }
        outs[i] = t.op(new Scale(-0.37f), x);
        assertMatchesReference(t.returning(outs), 1);
    }

    @Test
    void unaryKindsKeepNaNAsTheReferenceDoes() {
        TestGraph t = new TestGraph("nan");
        String x = t.input(4);
        Graph g = t.returning(t.op(Unary.of(Unary.Kind.RELU), x), t.op(Unary.of(Unary.Kind.LEAKY_RELU, 0.1f), x));
        HostTensor in = HostTensor.of(new float[]{Float.NaN, -1f, 2f, Float.NEGATIVE_INFINITY}, 4);
        try (var e = OpenClTesting.compile(g)) {
            var out = e.run(Map.of("x0", in));
            var expected = dev.kiln.ir.ReferenceInterpreter.run(g, Map.of("x0", in));
            for (String k : expected.keySet()) assertTrue(out.get(k).allClose(expected.get(k), 0, 0), k + ": " + out.get(k));
        }
    }

    @Test
    void binaryKindsBroadcastLikeNumPy() {
        TestGraph t = new TestGraph("binary");
        String a = t.input(2, 3, 5), b = t.input(3, 1), c = t.input(5);
        String add = t.op(new Binary(Binary.Kind.ADD), a, b), sub = t.op(new Binary(Binary.Kind.SUB), c, a);
        String mul = t.op(new Binary(Binary.Kind.MUL), a, a), div = t.op(new Binary(Binary.Kind.DIV), a, t.uniform(1f, 2f, 2, 1, 1));
        assertMatchesReference(t.returning(add, sub, mul, div), 2);
    }

    @Test
    void minMaxPreluComparisonsAndWhereBroadcast() {
        TestGraph t = new TestGraph("masks");
        String a = t.input(2, 3, 5), slope = t.input(3, 1), c = t.input(5);
        java.util.List<String> outs = new java.util.ArrayList<>();
        for (Binary.Kind k : Binary.Kind.values()) outs.add(t.op(new Binary(k), k == Binary.Kind.PRELU ? a : c, k == Binary.Kind.PRELU ? slope : a));
        String mask = t.op(new Binary(Binary.Kind.GT), a, c);
        outs.add(t.op(new Where(), mask, t.uniform(-1f, 1f, 1), a));
        outs.add(t.op(new Where(), t.op(Unary.of(Unary.Kind.NOT), mask), a, c));
        assertMatchesReference(t.returning(outs.toArray(String[]::new)), 5);
    }

    /** Exactly as the reference on NaN, ±∞ and ±0: min/max propagate NaN (C's fmin/fmax would not), comparisons are false with NaN. */
    @Test
    void binaryKindsAndWhereOnEdgeValues() {
        float[] edges = {0f, -0f, 1f, -2.5f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        int n = edges.length;
        float[] a = new float[n * n], b = new float[n * n];
        for (int i = 0; i < n * n; i++) { a[i] = edges[i / n]; b[i] = edges[i % n]; }
        TestGraph t = new TestGraph("edges");
        String x = t.input("a", n * n), y = t.input("b", n * n);
        java.util.List<String> outs = new java.util.ArrayList<>();
        for (Binary.Kind k : Binary.Kind.values()) outs.add(t.op(new Binary(k), x, y));
        outs.add(t.op(new Where(), x, x, y));
        outs.add(t.op(Unary.of(Unary.Kind.NOT), x));
        Graph g = t.returning(outs.toArray(String[]::new));
        Map<String, HostTensor> in = Map.of("a", HostTensor.of(a, n * n), "b", HostTensor.of(b, n * n));
        try (var e = OpenClTesting.compile(g)) {
            var out = e.run(in);
            var expected = dev.kiln.ir.ReferenceInterpreter.run(g, in);
            for (String k : expected.keySet()) assertTrue(out.get(k).allClose(expected.get(k), 0, 0), k + ": " + out.get(k));
        }
    }

    /** pow keeps Math.pow's rules on the device too: its special cases (x·x, sqrt, 1/x) and C's pow for the rest. */
    @Test
    void powOnEdgeValues() {
        float[] edges = {0f, -0f, 1f, -1f, 2f, -2f, 0.5f, -3f, 1e-30f, 1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        TestGraph t = new TestGraph("pow");
        String x = t.input("x", edges.length);
        java.util.List<String> outs = new java.util.ArrayList<>();
        for (float a : new float[]{0f, 1f, 2f, 3f, 4f, 0.5f, -1f, -2f, 1.5f, -0.5f, 5f}) outs.add(t.op(Unary.of(Unary.Kind.POW, a), x));
        Graph g = t.returning(outs.toArray(String[]::new));
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(edges, edges.length));
        try (var e = OpenClTesting.compile(g)) {
            var out = e.run(in);
            var expected = dev.kiln.ir.ReferenceInterpreter.run(g, in);
            for (String k : expected.keySet()) assertTrue(out.get(k).allClose(expected.get(k), 1e-6, 0), k + ": " + out.get(k));
        }
    }

    /** tanh is exactly ±1 where it saturates in f32, so GELU-tanh(−∞) is −∞·0 = NaN as in the reference (PoCL's tanh gave ±0.99999994). */
    @Test
    void tanhSaturatesExactly() {
        TestGraph t = new TestGraph("tanh");
        String x = t.input("x", 5);
        Graph g = t.returning(t.op(Unary.of(Unary.Kind.TANH), x), t.op(Unary.of(Unary.Kind.GELU_TANH), x));
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(new float[]{Float.NEGATIVE_INFINITY, -20f, 9.5f, Float.POSITIVE_INFINITY, Float.NaN}, 5));
        try (var e = OpenClTesting.compile(g)) {
            var out = e.run(in);
            var expected = dev.kiln.ir.ReferenceInterpreter.run(g, in);
            for (String k : expected.keySet()) assertTrue(out.get(k).allClose(expected.get(k), 0, 0), k + ": " + out.get(k));
        }
    }

    @Test
    void batchNormInInferenceMode() {
        TestGraph t = new TestGraph("bn");
        String y = t.op(new BatchNorm2d(1e-5f), t.input(2, 3, 4, 5), t.weight(3), t.weight(3), t.weight(3), t.uniform(0.5f, 2f, 3));
        assertMatchesReference(t.returning(y), 3);
    }

    @Test
    void softmaxAlongTheLastAndAMiddleAxis() {
        TestGraph t = new TestGraph("softmax");
        String x = t.input(2, 7, 3), long_ = t.input(3, 1031);
        assertMatchesReference(t.returning(t.op(new Softmax(2), x), t.op(new Softmax(1), x), t.op(new Softmax(1), long_)), 4);
    }

    @Test
    void maxAndAveragePoolingWithPadding() {
        TestGraph t = new TestGraph("pool");
        String x = t.input(1, 2, 9, 8);
        String max = t.op(new MaxPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}), x);
        String avgIn = t.op(new AvgPool2d(new int[]{3, 2}, new int[]{2, 2}, new int[]{1, 1, 1, 1}, true), x);
        String avgEx = t.op(new AvgPool2d(new int[]{3, 3}, new int[]{2, 1}, new int[]{1, 0, 2, 1}, false), x);
        String global = t.op(Reduce.globalAvgPool(), x);
        assertMatchesReference(t.returning(max, avgIn, avgEx, global), 5);
    }

    @Test
    void reshapeTransposeSliceAndConcatAreReadsThroughViews() {
        TestGraph t = new TestGraph("movement");
        String x = t.input(2, 3, 4, 5);
        String r = t.op(new Reshape(new int[]{6, 20}), x);
        String tr = t.op(new Transpose(new int[]{3, 1, 0, 2}), x);
        String s = t.op(new Slice(new int[]{1, 3}, new int[]{1, 0}, new int[]{3, 5}, new int[]{1, 2}), x);
        String c = t.op(new Concat(1), x, t.input(2, 2, 4, 5), x);
        assertMatchesReference(t.returning(r, tr, s, c), 6);
    }

    @Test
    void aReshapeOfAHaloedIntermediateSkipsTheHalo() {
        TestGraph t = new TestGraph("haloed-reshape");
        String a = t.op(Conv2d.of(0, 1), t.input(1, 2, 5, 6), t.weight(3, 2, 1, 1));
        String padded = t.op(Conv2d.of(2, 1), a, t.weight(2, 3, 3, 3));
        String flat = t.op(new Reshape(new int[]{3, 30}), a);
        String pooled = t.op(new MaxPool2d(new int[]{2, 2}, new int[]{2, 2}, new int[4]), a);
        Graph g = t.returning(padded, flat, pooled);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            assertEquals(2, e.layout().of(a).halo()[0], "the intermediate carries the padded conv's halo");
        }
        assertMatchesReference(g, 7);
    }

    @Test
    void outputsThatAreInputsConstantsOrRepeated() {
        TestGraph t = new TestGraph("passthrough");
        String x = t.input(2, 3), w = t.weight(3);
        String y = t.op(new Binary(Binary.Kind.ADD), x, w);
        assertMatchesReference(t.returning(y, x, w, y), 8);
    }

    @Test
    void emptyTensorsLaunchNothing() {
        TestGraph t = new TestGraph("empty");
        String y = t.op(Unary.of(Unary.Kind.TANH), t.input(0, 3));
        Graph g = t.returning(y);
        try (var e = OpenClTesting.compile(g)) {
            assertEquals(Shape.of(0, 3), e.run(Map.of("x0", HostTensor.zeros(0, 3))).get(y).shape());
        }
    }
}
