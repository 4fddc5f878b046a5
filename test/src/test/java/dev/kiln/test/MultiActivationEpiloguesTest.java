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
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Every epilogue anchor with several activations and the extra operand joined at places the old
 * fixed epilogue (add, one activation, mul) could not express, run unfused-free (no passes) on each
 * backend against the reference.
 */
class MultiActivationEpiloguesTest {
    static Stream<String> backends() { return Targets.backends(); }

    private static final Epilogue RELU_SIGMOID_CLIP = Epilogue.of(Act.RELU).then(Act.SIGMOID).then(Act.clip(0.25f, 0.75f));
    private static final Epilogue SIGMOID_MUL_ADD_TANH = Epilogue.of(Act.SIGMOID).then(Epilogue.MUL).then(Epilogue.ADD).then(Act.TANH);
    private static final Epilogue LEAKY_TANH_MUL_RELU = Epilogue.of(Epilogue.act(Act.leakyRelu(0.1f)), Epilogue.act(Act.TANH), Epilogue.MUL,
            Epilogue.act(Act.RELU));

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void conv(String backend) {
        for (Epilogue e : List.of(RELU_SIGMOID_CLIP, SIGMOID_MUL_ADD_TANH))
            check(backend, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, e),
                    Shape.of(1, 4, 7, 9), t(1, 3, 7, 9), t(4, 3, 3, 3), t(4));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void linear(String backend) {
        for (Epilogue e : List.of(LEAKY_TANH_MUL_RELU, Epilogue.of(Epilogue.ADD).then(Act.RELU).then(Act.TANH).then(Epilogue.MUL)))
            check(backend, new Linear(e), Shape.of(5, 37), t(5, 19), t(37, 19), t(37));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void matMul(String backend) {
        for (Epilogue e : List.of(RELU_SIGMOID_CLIP, SIGMOID_MUL_ADD_TANH))
            check(backend, new MatMul(e), Shape.of(2, 9, 35), t(2, 9, 17), t(2, 17, 35));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void depthwisePointwise(String backend) {
        for (Epilogue e : List.of(RELU_SIGMOID_CLIP, LEAKY_TANH_MUL_RELU))
            check(backend, new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, Act.RELU, e),
                    Shape.of(1, 6, 9, 11), t(1, 5, 9, 11), t(5, 1, 3, 3), t(5), t(6, 5, 1, 1), t(6));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void attention(String backend) {
        for (Epilogue e : List.of(RELU_SIGMOID_CLIP, SIGMOID_MUL_ADD_TANH))
            check(backend, new FusedAttention(0.5f, false, false, false, false, false, e),
                    Shape.of(2, 6, 5), t(2, 6, 4), t(2, 11, 4), t(2, 11, 5));
    }

    private static TensorType t(int... dims) { return TensorType.f32(dims); }

    /** op on random operands (constants from the second on), its extra operand an input of the result's shape. */
    private static void check(String backend, Op op, Shape out, TensorType... operands) {
        GraphBuilder b = new GraphBuilder("epilogue");
        Map<String, HostTensor> inputs = new LinkedHashMap<>();
        List<String> in = new ArrayList<>();
        for (int i = 0; i < operands.length; i++) {
            HostTensor data = HostTensor.normal(operands[i].shape(), 17 + i);
            boolean input = i == 0 || op instanceof MatMul || op instanceof FusedAttention;
            in.add(input ? b.input("in" + i, operands[i]) : b.constant("c" + i, data));
            if (input) inputs.put("in" + i, data);
        }
        if (((dev.kiln.ir.op.EpilogueAnchor) op).epilogue().hasExtra()) {
            in.add(b.input("extra", TensorType.f32(out.dims())));
            inputs.put("extra", HostTensor.normal(out, 99));
        }
        Graph g = b.output(b.add(op, in, "anchor")).build();
        Case c = new Case(g, inputs);
        Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), List.of()), backend, 1);
        assertNull(f, () -> f + "\n" + IrPrinter.print(g));
    }
}
