package dev.kiln.backend.cpu;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the cpu backend refuses at compile time, and that each refusal names the IR node and where it came from. */
class CompileErrorsTest {
    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    @Test
    void aRankFiveSoftmaxNamesTheNodeAndItsOnnxOrigin() {
        GraphBuilder b = new GraphBuilder("rank5");
        String x = b.input("x", TensorType.f32(1, 2, 3, 4, 5));
        String y = b.add("sm", new Softmax(4), List.of(x), "/block/Softmax");
        Graph g = b.output(y).build();
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> new CpuBackend().compile(g, Map.of("threads", "1")));
        assertMentions(e, "%sm", "/block/Softmax", "up to rank 4", "rank 5");
    }

    /** Movement and element-wise ops take ranks up to 6 (they were refused above rank 4). */
    @Test
    void aRankFiveReshapeAndActivationCompileAndMatchTheReference() {
        GraphBuilder b = new GraphBuilder("rank5");
        String x = b.input("x", TensorType.f32(2, 3, 4, 5));
        String r = b.add("split", new Reshape(new int[]{2, 3, 2, 2, 5}), List.of(x), "model.split");
        String y = b.add("act", Unary.of(Unary.Kind.RELU), List.of(r), "model.act");
        Graph g = b.output(b.add("merge", new Reshape(new int[]{2, 3, 4, 5}), List.of(y), "model.merge")).build();
        Map<String, HostTensor> in = Map.of("x", HostTensor.normal(Shape.of(2, 3, 4, 5), 3));
        try (var e = new CpuBackend().compile(g, Map.of("threads", "1"))) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(dev.kiln.ir.ReferenceInterpreter.run(g, in).get("merge").data(),
                    e.run(in).get("merge").data());
        }
    }

    @Test
    void aFusedDepthwisePointwiseConvWithComputedWeightsNamesTheNode() {
        GraphBuilder b = new GraphBuilder("dwpw");
        String x = b.input("x", TensorType.f32(1, 4, 6, 6));
        String dw = b.input("dw", TensorType.f32(4, 1, 3, 3));
        String dwb = b.constant("dwb", HostTensor.normal(Shape.of(4), 1));
        String pw = b.constant("pw", HostTensor.normal(Shape.of(6, 4, 1, 1), 2));
        String pwb = b.constant("pwb", HostTensor.normal(Shape.of(6), 3));
        FusedDwPwConv f = new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1},
                Act.RELU, Epilogue.NONE);
        Graph g = b.output(b.add("fused", f, List.of(x, dw, dwb, pw, pwb), "block.dwpw")).build();
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> new CpuBackend().compile(g, Map.of("threads", "1")));
        assertMentions(e, "%fused", "block.dwpw", "%dw", "constant");
    }
}
