package dev.kiln.frontend;

import dev.kiln.frontend.nn.GroupNorm;
import dev.kiln.frontend.nn.InstanceNorm2d;
import dev.kiln.frontend.nn.LayerNorm;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Reduce;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The DSL's norm layers and reductions, traced and run by the reference, against the formulas written out here. */
class NormAndReduceLayersTest {
    /** One layer applied to the input, nothing else. */
    static final class One extends Module {
        final Module layer;
        One(Module layer) { this.layer = register("n", layer); }
        @Override public Tensor forward(Tensor x) { return layer.apply(x); }
    }

    private static float[] run(Graph g, HostTensor x) { return ReferenceInterpreter.run(g, Map.of("x", x)).values().iterator().next().data(); }

    /** (x − mean)/sqrt(var + 1e-5) over each group of count consecutive elements, then per-channel w, b (plane elements per channel). */
    private static void assertNormalised(float[] x, float[] y, int count, int plane, float[] w, float[] b) {
        for (int g = 0; g * count < x.length; g++) {
            double mean = 0, var = 0;
            for (int i = 0; i < count; i++) mean += x[g * count + i] / (double) count;
            for (int i = 0; i < count; i++) var += Math.pow(x[g * count + i] - mean, 2) / count;
            for (int i = 0; i < count; i++) {
                int p = g * count + i, c = p / plane % w.length;
                assertEquals((x[p] - mean) / Math.sqrt(var + 1e-5) * w[c] + b[c], y[p], 1e-4, "element " + p);
            }
        }
    }

    @Test
    void groupNormNormalisesEachGroupOfChannelsThenAppliesThePerChannelAffine() {
        One m = new One(new GroupNorm(2, 4));
        Graph g = Tracer.trace(m, 2, 4, 3, 3);
        HostTensor x = HostTensor.normal(Shape.of(2, 4, 3, 3), 3);
        Map<String, HostTensor> sd = m.stateDict();
        assertNormalised(x.data(), run(g, x), 2 * 9, 9, sd.get("n.weight").data(), sd.get("n.bias").data());
    }

    @Test
    void instanceNormWithAndWithoutAffine() {
        HostTensor x = HostTensor.normal(Shape.of(1, 3, 4, 5), 4);
        One plain = new One(new InstanceNorm2d(3));
        assertTrue(plain.stateDict().isEmpty());
        assertNormalised(x.data(), run(Tracer.trace(plain, 1, 3, 4, 5), x), 20, 20, new float[]{1, 1, 1}, new float[3]);
        One affine = new One(new InstanceNorm2d(3, true));
        Graph g = Tracer.trace(affine, 1, 3, 4, 5);
        assertNormalised(x.data(), run(g, x), 20, 20, affine.stateDict().get("n.weight").data(), affine.stateDict().get("n.bias").data());
    }

    @Test
    void layerNormOverTheTrailingShapeAndItsShapeError() {
        One m = new One(new LayerNorm(4, 5));
        Graph g = Tracer.trace(m, 2, 4, 5);
        assertEquals(new dev.kiln.ir.op.LayerNorm(1, 1e-5f), g.nodes().getFirst().op());
        HostTensor x = HostTensor.normal(Shape.of(2, 4, 5), 5);
        float[] w = m.stateDict().get("n.weight").data(), b = m.stateDict().get("n.bias").data(), y = run(g, x);
        for (int r = 0; r < 2; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < 20; i++) mean += x.data()[r * 20 + i] / 20.0;
            for (int i = 0; i < 20; i++) var += Math.pow(x.data()[r * 20 + i] - mean, 2) / 20;
            for (int i = 0; i < 20; i++) assertEquals((x.data()[r * 20 + i] - mean) / Math.sqrt(var + 1e-5) * w[i] + b[i], y[r * 20 + i], 1e-4);
        }
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new One(new LayerNorm(4)), 2, 5));
        assertTrue(e.getMessage().contains("does not fit the trailing axes"), e.getMessage());
    }

    /** x.mean((2, 3), keepdim=True), x.sum((1, 2)), amax(-1), logsumexp, amin: one Reduce each, with negative dims counted from the end. */
    static final class Reductions extends Module {
        @Override public Tensor forward(Tensor x) {
            return x.mean(new int[]{2, 3}, true).add(x.sum(1, 2).amax(-1).view(2, 1, 1, 1)).add(x.logsumexp(new int[]{-1, 1}, true).amin(new int[]{2}, true));
        }
    }

    @Test
    void tensorReductionsAreOneReduceEach() {
        Graph g = Tracer.trace(new Reductions(), 2, 3, 4, 5);
        List<Reduce> reduces = g.nodes().stream().filter(n -> n.op() instanceof Reduce).map(n -> (Reduce) n.op()).toList();
        assertEquals(List.of(Reduce.globalAvgPool(), new Reduce(Reduce.Kind.SUM, false, 1, 2), new Reduce(Reduce.Kind.MAX, false, 1),
                new Reduce(Reduce.Kind.LOG_SUM_EXP, true, 1, 3), new Reduce(Reduce.Kind.MIN, true, 2)), reduces);
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new Module() {
            @Override public Tensor forward(Tensor x) { return x.sum(1, -2); }
        }, 2, 3, 4));
        assertTrue(e.getMessage().contains("repeated"), e.getMessage());
    }
}
