package dev.kiln.test;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Conv1d;
import dev.kiln.frontend.nn.Pooling1d;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.passes.PassManager;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.*;

/** The DSL's 1-D layers (Conv1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d) against the reference, on each backend. */
class Layers1dTest {
    /** Strided, padded, dilated and grouped 1-D convs, each pool, activations between them. */
    static final class Net extends Module {
        final Conv1d c1 = register("c1", new Conv1d(3, 8, 5).stride(2).padding(2));
        final Conv1d c2 = register("c2", new Conv1d(8, 8, 3).padding(2).dilation(2).groups(4));
        final Conv1d c3 = register("c3", new Conv1d(8, 6, 3).bias(false));
        final Pooling1d.MaxPool1d max = register("max", new Pooling1d.MaxPool1d(3, 2, 1));
        final Pooling1d.AvgPool1d avg = register("avg", new Pooling1d.AvgPool1d(2, 1, 1, false));
        final Pooling1d.AdaptiveAvgPool1d adaptive = register("adaptive", new Pooling1d.AdaptiveAvgPool1d(2));

        @Override public Tensor forward(Tensor x) {
            Tensor h = max.apply(c1.apply(x).relu());
            h = avg.apply(c2.apply(h).tanh());
            return adaptive.apply(c3.apply(h).sigmoid());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void matchesTheReference(String backend) {
        var target = Targets.require(backend);
        Module m = new Net().initialize(7);
        Shape in = Shape.of(2, 3, 44);
        Graph g = Tracer.trace(m, "x", in);
        HostTensor x = HostTensor.normal(in, 11);
        HostTensor want = ReferenceInterpreter.run(g, x);
        assertEquals(Shape.of(2, 6, 2), want.shape());
        try (CompiledModel c = Kiln.compile(m, target, in)) {
            HostTensor got = c.run(x);
            assertTrue(got.relativeL2Error(want) < 1e-5, () -> backend + ": relative L2 error " + got.relativeL2Error(want));
        }
    }

    @Test
    void adaptivePoolsOfAnySizeAverageWhatPyTorchAverages() {
        // L = 10 to 4 outputs: windows [0,3) [2,5) [5,8) [7,10), as torch.nn.functional.adaptive_avg_pool1d picks them
        var pool = new Pooling1d.AdaptiveAvgPool1d(4);
        HostTensor x = HostTensor.normal(Shape.of(2, 3, 10), 5);
        HostTensor y = ReferenceInterpreter.run(Tracer.trace(pool, "x", x.shape()), x);
        int[][] windows = {{0, 3}, {2, 5}, {5, 8}, {7, 10}};
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 4; i++) {
                    double s = 0;
                    for (int j = windows[i][0]; j < windows[i][1]; j++) s += x.get(n, c, j);
                    assertEquals(s / 3, y.get(n, c, i), 1e-6, "output " + i);
                }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void adaptivePoolsOfAnySizeRun(String backend) {
        try (CompiledModel m = Kiln.compile(new Pooling1d.AdaptiveAvgPool1d(7), Targets.require(backend), Shape.of(2, 3, 10))) {
            HostTensor z = HostTensor.normal(Shape.of(2, 3, 10), 6);
            HostTensor want = ReferenceInterpreter.run(Tracer.trace(new Pooling1d.AdaptiveAvgPool1d(7), "x", z.shape()), z);
            assertTrue(m.run(z).relativeL2Error(want) < 1e-6, backend);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void adaptiveAvgPool2dOfAnySize(String backend) {
        // 7x10 to 3x4: rows [0,3) [2,5) [4,7), columns [0,3) [2,5) [5,8) [7,10)
        var pool = new dev.kiln.frontend.nn.Pooling.AdaptiveAvgPool2d(3, 4);
        Shape in = Shape.of(2, 3, 7, 10);
        HostTensor x = HostTensor.normal(in, 9);
        HostTensor want = ReferenceInterpreter.run(Tracer.trace(pool, "x", in), x);
        double s = 0;
        for (int r = 2; r < 5; r++) for (int c = 5; c < 8; c++) s += x.get(1, 2, r, c);
        assertEquals(s / 9, want.get(1, 2, 1, 2), 1e-6, "output (1, 2) averages rows 2..4 and columns 5..7");
        try (CompiledModel m = Kiln.compile(pool, Targets.require(backend), in)) {
            assertTrue(m.run(x).relativeL2Error(want) < 1e-6, backend);
        }
    }

    @Test
    void parametersHavePyTorchShapesAndActivationsFuseIntoTheConvs() {
        Net m = new Net();
        assertEquals(Shape.of(8, 2, 3), m.namedParameters().get("c2.weight").shape());
        Graph g = PassManager.defaults().run(Tracer.trace(m.initialize(1), "x", Shape.of(1, 3, 44))).graph();
        long convs = g.nodes().stream().filter(n -> n.op() instanceof Conv2d c && !c.epilogue().isNone()).count();
        assertEquals(3, convs, () -> "each conv takes its activation:\n" + g);
        long reshapes = g.nodes().stream().filter(n -> n.op() instanceof Reshape).count();
        assertTrue(reshapes <= 2, () -> "only the reshapes at the ends are left:\n" + g);
    }

    @Test
    void badInputsAreRefusedWithWhatIsWrong() {
        var conv = new Conv1d(3, 4, 3);
        var e = assertThrows(ShapeException.class, () -> Tracer.trace(conv.initialize(1), "x", Shape.of(1, 3, 8, 8)));
        assertTrue(e.getMessage().contains("[N, 3, L]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Conv1d(3, 4, 3).groups(2));
    }
}
