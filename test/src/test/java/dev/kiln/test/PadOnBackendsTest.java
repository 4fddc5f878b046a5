package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Pad;
import dev.kiln.ir.op.Unary;
import dev.kiln.passes.Passes;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Pad in each mode at ranks 1 to 6 with asymmetric pads (pads as wide as the axis allows for
 * reflect), reading and writing buffers the memory plan gives a halo (a padded conv on either
 * side), on each backend against the reference.
 */
class PadOnBackendsTest {
    static Stream<String> backends() { return Targets.backends(); }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void everyModeAtEveryRank(String backend) {
        GraphBuilder b = new GraphBuilder("pads");
        int[][] shapes = {{19}, {3, 5}, {2, 3, 4}, {1, 2, 3, 17}, {2, 1, 3, 2, 4}, {1, 2, 2, 3, 1, 5}};
        int k = 0;
        for (int[] d : shapes) {
            String x = b.input("x" + d.length, TensorType.f32(d));
            for (Pad.Mode mode : Pad.Mode.values()) {
                int r = d.length;
                int[] pads = new int[2 * r];
                for (int a = 0; a < r; a++) {
                    int most = mode == Pad.Mode.REFLECT ? d[a] - 1 : 3;
                    pads[a] = Math.min(most, (a + k) % 3);
                    pads[r + a] = Math.min(most, (2 * a + k + 1) % 4);
                }
                k++;
                b.output(b.add("pad" + r + mode.name().toLowerCase(), new Pad(mode, pads, mode == Pad.Mode.CONSTANT ? -1.5f : 0f), List.of(x), "pad"));
            }
        }
        check(backend, b.build());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void betweenPaddedConvs(String backend) {
        GraphBuilder b = new GraphBuilder("halo");
        String x = b.input("x", TensorType.f32(1, 2, 6, 7));
        String w = b.constant("w", HostTensor.normal(Shape.of(3, 2, 3, 3), 2));
        Conv2d padded = new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.RELU));
        String c1 = b.add("c1", padded, List.of(x, w), "conv");
        String p = b.add("reflect", new Pad(Pad.Mode.REFLECT, new int[]{0, 0, 2, 1, 0, 0, 1, 3}, 0f), List.of(c1), "pad");
        String w2 = b.constant("w2", HostTensor.normal(Shape.of(2, 3, 3, 3), 3));
        Conv2d padded2 = new Conv2d(new int[]{1, 1}, new int[]{2, 1, 0, 1}, new int[]{1, 1}, 1, Epilogue.NONE);
        String c2 = b.add("c2", padded2, List.of(p, w2), "conv");
        String e = b.add("edge", new Pad(Pad.Mode.EDGE, new int[]{0, 0, 1, 0, 0, 0, 0, 2}, 0f), List.of(c1), "pad");
        check(backend, b.output(c2).output(b.add("t", new Unary(Act.TANH), List.of(e), "tanh")).build());
    }

    private static void check(String backend, Graph g) {
        Map<String, HostTensor> inputs = new LinkedHashMap<>();
        long seed = 5;
        for (Graph.Value v : g.inputs()) inputs.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        Case c = new Case(g, inputs);
        for (List<String> passes : List.of(List.<String>of(), Passes.DEFAULT)) {
            Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), passes), backend, 1);
            assertNull(f, () -> f + "\n" + IrPrinter.print(g));
        }
    }
}
