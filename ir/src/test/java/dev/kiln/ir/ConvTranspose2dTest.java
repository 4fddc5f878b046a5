package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.OpPattern;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transposed conv's shape rule, its reference against a scatter written the other way round, and its text form. */
class ConvTranspose2dTest {
    private static ConvTranspose2d op(int s, int p, int op, int d, int g) {
        return new ConvTranspose2d(Ints.of(s, s), Ints.filled(4, p), Ints.of(op, op), Ints.of(d, d), g);
    }

    @Test void shapeRuleIsPyTorchs() {
        // DCGAN: 16×16 → 32×32 with k4 s2 p1; the latent 1×1 → 4×4 with k4 s1 p0
        assertEquals(TensorType.f32(1, 32, 32, 32), op(2, 1, 0, 1, 1).inferType(List.of(TensorType.f32(1, 64, 16, 16), TensorType.f32(64, 32, 4, 4))));
        assertEquals(TensorType.f32(1, 8, 4, 4), op(1, 0, 0, 1, 1).inferType(List.of(TensorType.f32(1, 16, 1, 1), TensorType.f32(16, 8, 4, 4))));
        // (5−1)·3 − 2 + 2·(3−1) + 2 + 1 = 17; groups 2 double the per-group outputs
        assertEquals(TensorType.f32(2, 6, 17, 17), op(3, 1, 2, 2, 2).inferType(List.of(TensorType.f32(2, 4, 5, 5), TensorType.f32(4, 3, 3, 3))));
    }

    @Test void refusesBadAttributesAndShapes() {
        assertThrows(IllegalArgumentException.class, () -> op(2, 0, 2, 1, 1));   // output_padding not below stride or dilation
        assertThrows(IllegalArgumentException.class, () -> op(0, 0, 0, 1, 1));
        var e = assertThrows(ShapeException.class, () -> op(1, 0, 0, 1, 1).inferType(List.of(TensorType.f32(1, 4, 3, 3), TensorType.f32(3, 2, 3, 3))));
        assertTrue(e.getMessage().contains("conv_transpose2d"), e.getMessage());
        assertThrows(ShapeException.class, () -> op(1, 3, 0, 1, 1).inferType(List.of(TensorType.f32(1, 4, 1, 1), TensorType.f32(4, 2, 3, 3))));
        assertThrows(ShapeException.class, () -> op(1, 0, 0, 1, 3).inferType(List.of(TensorType.f32(1, 4, 3, 3), TensorType.f32(4, 2, 3, 3))));
    }

    @Test void referenceMatchesAScatterOfEachInputPixel() {
        int[][] cases = {{2, 1, 0, 1, 1}, {1, 0, 0, 1, 1}, {3, 1, 2, 2, 2}, {2, 2, 1, 3, 4}, {1, 1, 0, 2, 1}};
        for (int[] c : cases) {
            ConvTranspose2d t = op(c[0], c[1], c[2], c[3], c[4]);
            HostTensor x = HostTensor.normal(Shape.of(2, 4, 5, 6), 1), w = HostTensor.normal(Shape.of(4, 3, 3, 2), 2), b = HostTensor.normal(Shape.of(3 * c[4]), 3);
            HostTensor got = t.evaluate(List.of(x, w, b)), want = scatter(t, x, w, b);
            assertArrayEquals(want.shape().dims(), got.shape().dims());
            for (int i = 0; i < want.size(); i++) assertEquals(want.data()[i], got.data()[i], 1e-5, "case " + java.util.Arrays.toString(c) + " at " + i);
        }
    }

    @Test void epilogueFollowsTheBias() {
        ConvTranspose2d t = op(2, 1, 1, 1, 1).withEpilogue(Epilogue.of(Act.RELU).then(Epilogue.ADD));
        HostTensor x = HostTensor.normal(Shape.of(1, 2, 3, 3), 4), w = HostTensor.normal(Shape.of(2, 2, 3, 3), 5), b = HostTensor.normal(Shape.of(2), 6);
        HostTensor plain = t.plain().evaluate(List.of(x, w, b)), extra = HostTensor.normal(plain.shape(), 7);
        HostTensor got = t.evaluate(List.of(x, w, b, extra));
        for (int i = 0; i < got.size(); i++) assertEquals(Math.max(0, plain.data()[i]) + extra.data()[i], got.data()[i], 1e-6);
        assertEquals(OpPattern.REDUCTION, OpPattern.of(t));
    }

    @Test void textIrRoundTrips() {
        GraphBuilder gb = new GraphBuilder("ct");
        String x = gb.input("x", TensorType.f32(1, 4, 5, 5));
        String w = gb.constant("w", HostTensor.normal(Shape.of(4, 3, 3, 3), 1)), b = gb.constant("b", HostTensor.normal(Shape.of(6), 2));
        ConvTranspose2d t = new ConvTranspose2d(Ints.of(3, 2), Ints.of(1, 0, 2, 1), Ints.of(2, 1), Ints.of(2, 1), 2, Epilogue.of(Act.TANH));
        Graph g = gb.output(gb.add(t, List.of(x, w, b), "test")).build();
        String text = IrPrinter.print(g);
        assertTrue(text.contains("conv_transpose2d"), text);
        Graph parsed = IrParser.parse(text).withWeights(g.weights());
        assertEquals(text, IrPrinter.print(parsed));
        Map<String, HostTensor> in = Map.of("x", HostTensor.normal(Shape.of(1, 4, 5, 5), 3));
        assertEquals(ReferenceInterpreter.run(g, in), ReferenceInterpreter.run(parsed, in));
    }

    /** The definition read forwards: every input pixel adds its weighted kernel onto the (uncropped) output, then padding crops it. */
    private static HostTensor scatter(ConvTranspose2d t, HostTensor x, HostTensor w, HostTensor b) {
        Shape out = t.inferType(List.of(x.type(), w.type(), b.type())).shape();
        int[] xd = x.shape().dims(), wd = w.shape().dims();
        int og = wd[1], cg = xd[1] / t.groups(), oh = out.dim(2), ow = out.dim(3);
        double[] y = new double[out.elementCount()];
        for (int n = 0; n < xd[0]; n++)
            for (int oc = 0; oc < out.dim(1); oc++)
                for (int i = 0; i < oh * ow; i++) y[(n * out.dim(1) + oc) * oh * ow + i] = b.data()[oc];
        for (int n = 0; n < xd[0]; n++)
            for (int ic = 0; ic < xd[1]; ic++)
                for (int iy = 0; iy < xd[2]; iy++)
                    for (int ix = 0; ix < xd[3]; ix++)
                        for (int j = 0; j < og; j++)
                            for (int ky = 0; ky < wd[2]; ky++)
                                for (int kx = 0; kx < wd[3]; kx++) {
                                    int oy = iy * t.stride().get(0) - t.padding().get(0) + ky * t.dilation().get(0);
                                    int ox = ix * t.stride().get(1) - t.padding().get(1) + kx * t.dilation().get(1);
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    int oc = ic / cg * og + j;
                                    y[((n * out.dim(1) + oc) * oh + oy) * ow + ox] += (double) x.data()[((n * xd[1] + ic) * xd[2] + iy) * xd[3] + ix]
                                            * w.data()[((ic * og + j) * wd[2] + ky) * wd[3] + kx];
                                }
        float[] f = new float[y.length];
        for (int i = 0; i < y.length; i++) f[i] = (float) y[i];
        return HostTensor.of(out, f);
    }
}
