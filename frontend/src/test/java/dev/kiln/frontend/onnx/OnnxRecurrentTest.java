package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Transpose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxLoweringTest.load;
import static dev.kiln.frontend.onnx.OnnxLoweringTest.seq;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** Hand-written ONNX GRU and bidirectional LSTM/GRU nodes: the forms PyTorch's exports do not reach, and what is refused. */
class OnnxRecurrentTest {
    static final int T = 3, B = 2, IN = 2, H = 3;

    /** One node of type (LSTM or GRU, as PyTorch exports it), two directions or one, given initial states, its Y and Y_h as outputs. */
    private static OnnxTestModel rnn(String type, int dirs, long layout) {
        return rnn(type, dirs, layout, dirs == 2 ? "bidirectional" : "forward", 1L);
    }

    /** The same with direction's and linear_before_reset's values (null: absent) and extra attributes. */
    private static OnnxTestModel rnn(String type, int dirs, long layout, String direction, Long linearBeforeReset, Proto... extra) {
        int g = type.equals("LSTM") ? 4 : 3;
        Object[] x = layout == 0 ? new Object[]{T, B, IN} : new Object[]{B, T, IN};
        Object[] state = layout == 0 ? new Object[]{dirs, B, H} : new Object[]{B, dirs, H};
        OnnxTestModel m = new OnnxTestModel().input("x", x).input("h0", state);
        if (g == 4) m.input("c0", state);
        List<Proto> attrs = new ArrayList<>(List.of(attr("hidden_size", (long) H), attr("layout", layout),
                attr("direction", direction)));
        if (g == 3 && linearBeforeReset != null) attrs.add(attr("linear_before_reset", linearBeforeReset));
        attrs.addAll(Arrays.asList(extra));
        return m.floats("W", new long[]{dirs, g * H, IN}, seq(dirs * g * H * IN, 0.6f))
                .floats("R", new long[]{dirs, g * H, H}, seq(dirs * g * H * H, 0.4f))
                .floats("B", new long[]{dirs, 2 * g * H}, seq(dirs * 2 * g * H, 0.3f))
                .node(type, g == 4 ? in("x", "W", "R", "B", "", "h0", "c0") : in("x", "W", "R", "B", "", "h0"), in("y", "yh"),
                        attrs.toArray(Proto[]::new))
                .output("y").output("yh");
    }

    private static HostTensor swap01(HostTensor t) {
        int[] perm = new int[t.shape().rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[0] = 1;
        perm[1] = 0;
        return new Transpose(perm).evaluate(List.of(t));
    }

    @ParameterizedTest
    @ValueSource(strings = {"LSTM", "GRU"})
    void bidirectionalInBothLayoutsGivesTheSameYAndYh(String type) {
        float[] x = seq(T * B * IN, 1), h0 = seq(2 * B * H, 0.5f), c0 = seq(2 * B * H, -0.5f);
        Graph g0 = load(rnn(type, 2, 0)), g1 = load(rnn(type, 2, 1));
        assertEquals(1, g0.nodes().stream().map(Node::op).filter(op -> op instanceof Lstm l ? l.bidirectional() : op instanceof Gru r && r.bidirectional()).count());
        HostTensor xs = HostTensor.of(x, T, B, IN), hs = HostTensor.of(h0, 2, B, H), cs = HostTensor.of(c0, 2, B, H);
        Map<String, HostTensor> in0 = new java.util.HashMap<>(Map.of("x", xs, "h0", hs)), in1 = new java.util.HashMap<>(Map.of("x", swap01(xs), "h0", swap01(hs)));
        if (type.equals("LSTM")) { in0.put("c0", cs); in1.put("c0", swap01(cs)); }
        Map<String, HostTensor> r0 = ReferenceInterpreter.run(g0, in0), r1 = ReferenceInterpreter.run(g1, in1);
        HostTensor y0 = r0.get("y"), y1 = r1.get("y"), yh0 = r0.get("yh"), yh1 = r1.get("yh");
        assertEquals(Shape.of(T, 2, B, H), y0.shape());
        assertEquals(Shape.of(B, T, 2, H), y1.shape());
        assertEquals(Shape.of(2, B, H), yh0.shape());
        assertEquals(Shape.of(B, 2, H), yh1.shape());
        for (int t = 0; t < T; t++)
            for (int d = 0; d < 2; d++)
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < H; j++) assertEquals(y0.get(t, d, b, j), y1.get(b, t, d, j), 1e-6);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < H; j++) {
                assertEquals(y0.get(T - 1, 0, b, j), yh0.get(0, b, j), 0, "the forward Y_h is Y's last step");
                assertEquals(y0.get(0, 1, b, j), yh0.get(1, b, j), 0, "the reverse Y_h is Y's first step");
                for (int d = 0; d < 2; d++) assertEquals(yh0.get(d, b, j), yh1.get(b, d, j), 1e-6);
            }
    }

    @Test
    void gruWithoutLinearBeforeResetIsRefusedNamingTheAttribute() {
        var e = assertThrows(UnsupportedOpException.class, () -> load(rnn("GRU", 1, 0, "forward", 0L)));
        assertTrue(e.getMessage().contains("linear_before_reset=0"), e.getMessage());
        var absent = assertThrows(UnsupportedOpException.class, () -> load(rnn("GRU", 1, 0, "forward", null)));
        assertTrue(absent.getMessage().contains("linear_before_reset=0"), "ONNX's default is 0: " + absent.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"LSTM", "GRU"})
    void reverseOnlyAndClipAreRefused(String type) {
        var rev = assertThrows(UnsupportedOpException.class, () -> load(rnn(type, 1, 0, "reverse", 1L)));
        assertTrue(rev.getMessage().contains("direction 'reverse'"), rev.getMessage());
        var clip = assertThrows(UnsupportedOpException.class, () -> load(rnn(type, 1, 0, "forward", 1L, attr("clip", 2f))));
        assertTrue(clip.getMessage().contains("clip"), clip.getMessage());
    }

    @Test
    void gruWithShorterSequenceLengthsIsRefused() {
        int g = 3;
        OnnxTestModel m = new OnnxTestModel().input("x", T, B, IN)
                .floats("W", new long[]{1, g * H, IN}, seq(g * H * IN, 0.6f)).floats("R", new long[]{1, g * H, H}, seq(g * H * H, 0.4f))
                .ints("lens", new long[]{B}, T, T - 1)
                .node("GRU", in("x", "W", "R", "", "lens"), in("y"), attr("hidden_size", (long) H), attr("linear_before_reset", 1L))
                .output("y");
        var e = assertThrows(UnsupportedOpException.class, () -> load(m));
        assertTrue(e.getMessage().contains("sequence_lens") && e.getMessage().contains("full-length"), e.getMessage());
    }
}
