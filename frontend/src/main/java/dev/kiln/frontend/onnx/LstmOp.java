package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Slice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX LSTM (forward direction) as a one-layer Kiln lstm; a multi-layer PyTorch LSTM exports
 * as a chain of these. ONNX stacks the gates i, o, f, c; Kiln (like PyTorch) i, f, g, o, so the
 * weights and biases are reordered by blocks of H rows. ONNX's B holds the input and recurrent
 * biases side by side ([Wb, Rb]), which are PyTorch's bias_ih and bias_hh.
 *
 * <p>Layout 0: X [T,B,I], Y [T,1,B,H], Y_h [1,B,H]; layout 1: X [B,T,I], Y [B,T,1,H], Y_h [B,1,H].
 * Y_h is the last step of Y; Y_c (the last cell state) is not something Kiln's lstm returns.
 */
final class LstmOp {
    private LstmOp() {}

    /** For each Kiln gate block (i, f, g, o), the ONNX block (of i, o, f, c) it comes from. */
    private static final int[] ONNX_BLOCK = {0, 2, 3, 1};

    static void lower(NodeView n) {
        String direction = n.attrString("direction", "forward");
        if (!direction.equals("forward")) throw n.unsupported("direction '" + direction + "' is not supported; Kiln imports forward LSTMs only");
        List<String> acts = n.attrStrings("activations");
        if (!acts.isEmpty() && !acts.equals(List.of("Sigmoid", "Tanh", "Tanh")))
            throw n.unsupported("activations " + acts + " are not supported (only the default Sigmoid, Tanh, Tanh)");
        if (n.hasAttr("clip")) throw n.unsupported("clip is not supported");
        if (n.attrInt("input_forget", 0) != 0) throw n.unsupported("input_forget=1 is not supported");
        if (n.hasAttr("activation_alpha") || n.hasAttr("activation_beta")) throw n.unsupported("activation_alpha/beta are not supported");
        if (n.used(2)) throw n.unsupported("the Y_c output (last cell state) is not supported");
        boolean batchFirst = n.attrInt("layout", 0) != 0;
        int h = (int) n.attrInt("hidden_size", -1);
        int[] x = n.dims(0);
        if (x.length != 3) throw n.malformed("X must have rank 3, got " + Arrays.toString(x));
        int steps = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1], features = x[2];

        ConstTensor w = n.constIn(1, "W"), r = n.constIn(2, "R");
        if (h <= 0) h = w.dims()[1] / 4;
        expectDims(n, "W", w, 1, 4 * h, features);
        expectDims(n, "R", r, 1, 4 * h, h);
        float[] bias = new float[8 * h];
        if (n.has(3)) {
            ConstTensor b = n.constIn(3, "B");
            expectDims(n, "B", b, 1, 8 * h);
            for (int i = 0; i < bias.length; i++) bias[i] = (float) b.get(i);
        }
        if (n.has(4)) {
            ConstTensor lens = n.constIn(4, "sequence_lens");
            for (int i = 0; i < lens.size(); i++)
                if (lens.getLong(i) != steps)
                    throw n.unsupported("sequence_lens " + lens.describe() + " differ from the sequence length " + steps + "; only full-length sequences are supported");
        }
        if (n.has(7)) {
            ConstTensor p = n.constIn(7, "P");
            for (int i = 0; i < p.size(); i++) if (p.get(i) != 0) throw n.unsupported("peephole weights P are not supported");
        }

        String base = n.origin();
        List<String> in = new ArrayList<>();
        in.add(n.ir(0));
        boolean state = !isZeroOrAbsent(n, 5) || !isZeroOrAbsent(n, 6);
        if (state) {
            in.add(initialState(n, 5, batch, h, batchFirst, base + ".h0"));
            in.add(initialState(n, 6, batch, h, batchFirst, base + ".c0"));
        }
        in.add(n.constant(base + ".weight_ih", reorder(w.toHost(), 0, 4 * h, features, h)));
        in.add(n.constant(base + ".weight_hh", reorder(r.toHost(), 0, 4 * h, h, h)));
        HostTensor b = HostTensor.of(Shape.of(8 * h), bias);
        in.add(n.constant(base + ".bias_ih", reorder(b, 0, 4 * h, 1, h).reshape(Shape.of(4 * h))));
        in.add(n.constant(base + ".bias_hh", reorder(b, 4 * h, 4 * h, 1, h).reshape(Shape.of(4 * h))));
        String seq = n.emit("seq", new Lstm(h, 1, batchFirst, state), in);

        if (n.used(0)) {
            int[] y = batchFirst ? new int[]{batch, steps, 1, h} : new int[]{steps, 1, batch, h};
            n.setIr(0, n.ctx.emit(n.out(0), new Reshape(y), List.of(seq), n.origin()));
        }
        if (n.used(1)) {
            int timeAxis = batchFirst ? 1 : 0;
            String last = n.ctx.emit(n.out(1), new Slice(new int[]{timeAxis}, new int[]{steps - 1}, new int[]{steps}, new int[]{1}),
                    List.of(seq), n.origin());
            n.setIr(1, last);
        }
    }

    private static boolean isZeroOrAbsent(NodeView n, int i) {
        if (!n.has(i)) return true;
        if (!(n.in(i) instanceof Value.Const c)) return false;
        for (int k = 0; k < c.data().size(); k++) if (c.data().get(k) != 0) return false;
        return true;
    }

    /** initial_h or initial_c as Kiln's [1,B,H]: the given tensor (reshaped from [B,1,H] for layout 1) or zeros. */
    private static String initialState(NodeView n, int i, int batch, int h, boolean batchFirst, String hint) {
        if (!n.has(i)) return n.constant(hint, HostTensor.zeros(1, batch, h));
        int[] d = n.dims(i);
        int[] want = batchFirst ? new int[]{batch, 1, h} : new int[]{1, batch, h};
        if (!Arrays.equals(d, want)) throw n.malformed("input " + i + " has dims " + Arrays.toString(d) + ", expected " + Arrays.toString(want));
        String v = n.ir(i);
        return batchFirst ? n.emit("state" + i, new Reshape(new int[]{1, batch, h}), List.of(v)) : v;
    }

    /**
     * rows [from, from+count) of a [.., cols] tensor (count = 4H gate rows in ONNX order) as a
     * [4H, cols] tensor in Kiln's gate order.
     */
    private static HostTensor reorder(HostTensor t, int from, int count, int cols, int h) {
        float[] src = t.data(), out = new float[count * cols];
        for (int gate = 0; gate < 4; gate++)
            System.arraycopy(src, (from + ONNX_BLOCK[gate] * h) * cols, out, gate * h * cols, h * cols);
        return HostTensor.of(Shape.of(count, cols), out);
    }

    private static void expectDims(NodeView n, String what, ConstTensor t, int... dims) {
        if (!Arrays.equals(t.dims(), dims))
            throw n.unsupported(what + " is " + Arrays.toString(t.dims()) + ", expected " + Arrays.toString(dims)
                    + " for one direction and hidden_size " + n.attrInt("hidden_size", -1));
    }
}
