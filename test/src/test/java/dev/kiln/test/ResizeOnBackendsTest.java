package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Resize;
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
 * Resize in both modes with every coordinate transform and nearest rounding, up and down, by sizes
 * and by given (fractional) scales, at rank 3 and 4, between padded convs (buffers with halos),
 * on each backend against the reference.
 */
class ResizeOnBackendsTest {
    static Stream<String> backends() { return Targets.backends(); }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void everyModeCoordinateAndRounding(String backend) {
        GraphBuilder b = new GraphBuilder("resize");
        String x4 = b.input("x4", TensorType.f32(1, 2, 5, 7)), x3 = b.input("x3", TensorType.f32(2, 3, 6));
        int k = 0;
        for (Resize.Mode mode : Resize.Mode.values())
            for (Resize.Coord coord : Resize.Coord.values())
                for (Resize.Nearest nearest : mode == Resize.Mode.NEAREST ? Resize.Nearest.values() : new Resize.Nearest[]{Resize.Nearest.FLOOR}) {
                    int[][] sizes = {{10, 14}, {3, 4}, {1, 9}, {7, 1}};
                    int[] s = sizes[k % sizes.length];
                    b.output(b.add("r4_" + k, new Resize(mode, coord, nearest, s), List.of(x4), "resize"));
                    b.output(b.add("r3_" + k, new Resize(mode, coord, nearest, Ints.of(k % 2 == 0 ? 13 : 4), 0f, k % 2 == 0 ? 2.25f : 0f), List.of(x3), "resize"));
                    // scale 1.5 given: 5 → 7 rows, 7 → 10 columns, coordinates divided by 1.5 (not 7/5)
                    b.output(b.add("s4_" + k, new Resize(mode, coord, nearest, Ints.of(7, 10), 1.5f, 1.5f), List.of(x4), "resize"));
                    k++;
                }
        check(backend, b.build());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void betweenPaddedConvs(String backend) {
        GraphBuilder b = new GraphBuilder("halo");
        String x = b.input("x", TensorType.f32(1, 2, 6, 5));
        Conv2d padded = new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.RELU));
        String c1 = b.add("c1", padded, List.of(x, b.constant("w", HostTensor.normal(Shape.of(3, 2, 3, 3), 2))), "conv");
        String up = b.add("up", new Resize(Resize.Mode.LINEAR, Resize.Coord.HALF_PIXEL, Resize.Nearest.FLOOR, Ints.of(12, 10), 2f, 2f), List.of(c1), "up");
        String c2 = b.add("c2", padded, List.of(up, b.constant("w2", HostTensor.normal(Shape.of(3, 3, 3, 3), 3))), "conv");
        String near = b.add("near", new Resize(Resize.Mode.NEAREST, Resize.Coord.ASYMMETRIC, Resize.Nearest.FLOOR, Ints.of(12, 10), 2f, 2f), List.of(c1), "up");
        check(backend, b.output(c2).output(near).build());
    }

    private static void check(String backend, Graph g) {
        Map<String, HostTensor> inputs = new LinkedHashMap<>();
        long seed = 7;
        for (Graph.Value v : g.inputs()) inputs.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        Case c = new Case(g, inputs);
        for (List<String> passes : List.of(List.<String>of(), Passes.DEFAULT)) {
            Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), passes), backend, 1);
            assertNull(f, () -> f + "\n" + IrPrinter.print(g));
        }
    }
}
