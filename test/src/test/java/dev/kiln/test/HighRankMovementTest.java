package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;
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
 * Rank-5 and rank-6 movement and element-wise ops (channel shuffle, pixel shuffle, strided
 * slices, concats, broadcasts that cannot fold to 4 axes) on each backend against the reference,
 * with no passes and with the default pipeline.
 */
class HighRankMovementTest {
    static Stream<String> backends() { return Targets.backends(); }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void channelShuffleOfRankFive(String backend) {
        GraphBuilder b = new GraphBuilder("shuffle");
        String x = b.input("x", TensorType.f32(2, 6, 5, 7));
        String r = b.add(new Reshape(2, 2, 3, 5, 7), List.of(x), "split groups");
        String t = b.add(new Transpose(0, 2, 1, 3, 4), List.of(r), "swap groups");
        String back = b.add(new Reshape(2, 6, 5, 7), List.of(t), "merge groups");
        check(backend, b.output(b.add(new Unary(Act.RELU), List.of(back), "relu")).build());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void pixelShuffleOfRankSix(String backend) {
        GraphBuilder b = new GraphBuilder("pixel");
        String x = b.input("x", TensorType.f32(1, 8, 3, 5));
        String r = b.add(new Reshape(1, 2, 2, 2, 3, 5), List.of(x), "split");
        String t = b.add(new Transpose(0, 1, 4, 2, 5, 3), List.of(r), "interleave");
        check(backend, b.output(b.add(new Reshape(1, 2, 6, 10), List.of(t), "merge")).build());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void stridedSliceAndConcatOfRankFiveAndSix(String backend) {
        GraphBuilder b = new GraphBuilder("slices");
        String x = b.input("x", TensorType.f32(2, 3, 4, 5, 6));
        String s = b.add(new Slice(new int[]{1, 4}, new int[]{0, 1}, new int[]{3, 6}, new int[]{2, 2}), List.of(x), "slice");
        String y = b.input("y", TensorType.f32(2, 1, 3, 2, 5, 6));
        String z = b.input("z", TensorType.f32(2, 1, 3, 3, 5, 6));
        String c = b.add(new Concat(3), List.of(y, z), "concat");
        String t = b.add(new Transpose(5, 4, 3, 2, 1, 0), List.of(c), "reverse axes");
        check(backend, b.output(s).output(b.add(new Scale(2f), List.of(t), "scale")).build());
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void broadcastsThatDoNotFoldToFourAxes(String backend) {
        GraphBuilder b = new GraphBuilder("bcast");
        String a = b.input("a", TensorType.f32(2, 3, 4, 5, 6));
        String w = b.constant("w", HostTensor.normal(dev.kiln.ir.Shape.of(3, 1, 5, 1), 5));
        String sum = b.add(new Binary(Binary.Kind.ADD), List.of(a, w), "add");
        String m = b.input("m", TensorType.f32(2, 1, 3, 1, 2, 1));
        String v = b.input("v", TensorType.f32(1, 4, 1, 5, 1, 7));
        String sel = b.add(new Where(), List.of(m, v, b.constant("k", HostTensor.of(new float[]{-1f}, 1))), "where");
        String u = b.add(new Unary(Act.TANH), List.of(b.add(new Binary(Binary.Kind.MUL), List.of(sel, v), "mul")), "tanh");
        check(backend, b.output(sum).output(u).build());
    }

    private static void check(String backend, Graph g) {
        Map<String, HostTensor> inputs = new LinkedHashMap<>();
        long seed = 11;
        for (Graph.Value v : g.inputs()) inputs.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        Case c = new Case(g, inputs);
        for (List<String> passes : List.of(List.<String>of(), Passes.DEFAULT)) {
            Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), passes), backend, 1);
            assertNull(f, () -> f + "\n" + IrPrinter.print(g));
        }
    }
}
