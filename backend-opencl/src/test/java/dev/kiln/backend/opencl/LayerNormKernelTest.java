package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.backend.opencl.OpenClTesting.assertClose;
import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static dev.kiln.backend.opencl.OpenClTesting.compile;

/** LayerNorm and ResidualLayerNorm on OpenCL: each axis of a rank-4 input, with and without affine, and rows with a large mean. */
class LayerNormKernelTest {
    @Test
    void everyAxisWithAndWithoutAffine() {
        TestGraph t = new TestGraph("layer_norm");
        String x = t.input(2, 3, 5, 17), row = t.input(3, 1100);
        String a = t.op(new LayerNorm(3, 1e-5f), x, t.input(17), t.input(17));
        String b = t.op(new LayerNorm(1, 1e-3f), x, t.input(3, 5, 17));
        String c = t.op(new LayerNorm(0, 0f), x);
        String d = t.op(new LayerNorm(2, 1e-5f), x);
        String e = t.op(new LayerNorm(1, 1e-5f), row);
        assertMatchesReference(t.returning(a, b, c, d, e), 3);
    }

    @Test
    void rowsWithALargeMean() {
        TestGraph t = new TestGraph("large_mean");
        String x = t.input("x", 4, 96);
        Graph g = t.returning(t.op(new LayerNorm(1, 1e-5f), x));
        HostTensor in = HostTensor.normal(dev.kiln.ir.Shape.of(4, 96), 5);
        for (int i = 0; i < in.size(); i++) in.data()[i] += 1e4f;
        try (Executable e = compile(g)) {
            assertClose(ReferenceInterpreter.run(g, Map.of("x", in)), e.run(Map.of("x", in)), "1e4 + N(0,1)");
        }
    }

    @Test
    void residualSumOnEveryAxisWithAndWithoutAffine() {
        TestGraph t = new TestGraph("residual_layer_norm");
        String x = t.input(2, 3, 5, 17), r = t.input(2, 3, 5, 17), row = t.input(3, 1100), rowR = t.input(3, 1100);
        String a = t.op(new ResidualLayerNorm(3, 1e-5f), x, r, t.input(17), t.input(17));
        String b = t.op(new ResidualLayerNorm(1, 1e-3f), x, r, t.input(3, 5, 17));
        String c = t.op(new ResidualLayerNorm(0, 0f), x, x);
        String d = t.op(new ResidualLayerNorm(2, 1e-5f), r, x);
        String e = t.op(new ResidualLayerNorm(1, 1e-5f), row, rowR);
        assertMatchesReference(t.returning(a, b, c, d, e), 3);
    }

    @Test
    void residualRowsWithALargeMean() {
        TestGraph t = new TestGraph("residual_large_mean");
        String x = t.input("x", 4, 96), r = t.input("r", 4, 96);
        Graph g = t.returning(t.op(new ResidualLayerNorm(1, 1e-5f), x, r, t.weight(96), t.weight(96)));
        HostTensor in = HostTensor.normal(dev.kiln.ir.Shape.of(4, 96), 5), res = HostTensor.normal(dev.kiln.ir.Shape.of(4, 96), 6);
        for (int i = 0; i < in.size(); i++) in.data()[i] += 1e4f;
        try (Executable e = compile(g)) {
            Map<String, HostTensor> inputs = Map.of("x", in, "r", res);
            assertClose(ReferenceInterpreter.run(g, inputs), e.run(inputs), "1e4 + N(0,1) plus N(0,1)");
        }
    }
}
