package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static dev.kiln.backend.opencl.OpenClTesting.compile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Reduce on OpenCL: every kind over inner, outer, split and all axes, with and without kept dims, against the reference. */
class ReduceKernelTest {
    @Test
    void everyKindOverSeveralAxisSets() {
        int[][] axes = {{3}, {2, 3}, {1}, {0, 2}, {0, 1, 2, 3}};
        for (Reduce.Kind kind : Reduce.Kind.values()) {
            TestGraph t = new TestGraph("reduce_" + kind.name().toLowerCase());
            String x = t.input(2, 3, 5, 17);
            // products of normals near 0 underflow differently; log of a sum is taken of positive sums
            if (kind == Reduce.Kind.PROD) x = t.op(Unary.of(Unary.Kind.EXP), x);
            if (kind == Reduce.Kind.LOG_SUM) x = t.op(Unary.of(Unary.Kind.ABS), x);
            List<String> outs = new ArrayList<>();
            for (int i = 0; i < axes.length; i++) outs.add(t.op(new Reduce(kind, i % 2 == 0, axes[i]), x));
            assertMatchesReference(t.returning(outs.toArray(String[]::new)), kind.ordinal());
        }
    }

    @Test
    void maxAndMinPropagateNaNAndLogSumExpKeepsInfinities() {
        TestGraph t = new TestGraph("nan");
        String x = t.input("x", 4, 3);
        Graph g = t.returning(t.op(new Reduce(Reduce.Kind.MAX, false, 1), x), t.op(new Reduce(Reduce.Kind.MIN, false, 1), x),
                t.op(new Reduce(Reduce.Kind.LOG_SUM_EXP, false, 1), x));
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        HostTensor in = HostTensor.of(new float[]{1, nan, 3, -inf, -inf, -inf, 2, inf, 0, 1000, 1000, -5}, 4, 3);
        try (Executable e = compile(g)) {
            var out = e.run(Map.of("x", in));
            var want = dev.kiln.ir.ReferenceInterpreter.run(g, Map.of("x", in));
            for (String k : want.keySet()) assertArrayEquals(want.get(k).data(), out.get(k).data(), 1e-3f, k);
        }
    }

    /** L2 and sum of squares of values whose squares leave f32's range (the kernel scales by the largest |x|). */
    @Test
    void normsOfTinyAndHugeValuesMatchTheReference() {
        float[] scales = {1e-30f, 3e-20f, 1f, 1e19f, 1e30f, 0f};
        int rows = scales.length + 1, cols = 21;
        float[] a = new float[rows * cols];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < scales.length; i++)
            for (int j = 0; j < cols; j++) a[i * cols + j] = (r.nextBoolean() ? scales[i] : -scales[i]) * (0.5f + r.nextFloat());
        a[scales.length * cols + 2] = Float.POSITIVE_INFINITY;
        for (Reduce.Kind kind : new Reduce.Kind[]{Reduce.Kind.L2, Reduce.Kind.SUM_SQUARE}) {
            TestGraph t = new TestGraph("norm_" + kind.name().toLowerCase());
            String x = t.input("x", rows, cols);
            Graph g = t.returning(t.op(new Reduce(kind, false, 1), x), t.op(new Reduce(kind, true, 0), x));
            HostTensor in = HostTensor.of(a, rows, cols);
            try (Executable e = compile(g)) {
                var out = e.run(Map.of("x", in));
                var want = dev.kiln.ir.ReferenceInterpreter.run(g, Map.of("x", in));
                for (String k : want.keySet()) {
                    float[] w = want.get(k).data(), got = out.get(k).data();
                    for (int i = 0; i < w.length; i++)
                        if (!(Float.isInfinite(w[i]) ? w[i] == got[i] : Math.abs(w[i] - got[i]) <= 1e-5f * Math.abs(w[i]) + 2 * Float.MIN_VALUE))
                            throw new AssertionError(kind + " " + k + " at " + i + ": " + got[i] + ", reference " + w[i]);
                }
            }
        }
    }
}
