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
}
