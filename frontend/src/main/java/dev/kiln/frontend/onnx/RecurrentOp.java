package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * ONNX LSTM and GRU (forward or bidirectional) as a one-layer Kiln lstm or gru; a multi-layer
 * PyTorch RNN exports as a chain of these. ONNX stacks an LSTM's gates i, o, f, c and a GRU's
 * z, r, h; Kiln (like PyTorch) i, f, g, o and r, z, n, so the weights and biases are reordered by
 * blocks of H rows. ONNX's B holds the input and recurrent biases side by side ([Wb, Rb]), which
 * are PyTorch's bias_ih and bias_hh; its direction axis becomes Kiln's per-direction operands.
 *
 * <p>Layout 0: X [T,B,I], Y [T,D,B,H], Y_h [D,B,H]; layout 1: X [B,T,I], Y [B,T,D,H], Y_h [B,D,H].
 * Kiln's op returns [T,B,D·H] (or [B,T,D·H]): Y is that reshaped (and for layout 0 with two
 * directions transposed), Y_h the last step of the forward half and the first step of the reverse
 * half. An LSTM's Y_c (the last cell state) is not something Kiln's lstm returns.
 */
final class RecurrentOp {
    private RecurrentOp() {}

    /** For each Kiln gate block (i, f, g, o), the ONNX block (of i, o, f, c) it comes from. */
    private static final int[] LSTM_BLOCKS = {0, 2, 3, 1};
    /** For each Kiln gate block (r, z, n), the ONNX block (of z, r, h) it comes from. */
    private static final int[] GRU_BLOCKS = {1, 0, 2};

    static void lstm(NodeView n) {
        if (n.attrInt("input_forget", 0) != 0) throw n.unsupported("input_forget=1 is not supported");
        if (n.used(2)) throw n.unsupported("the Y_c output (last cell state) is not supported");
        if (n.has(7)) {
            ConstTensor p = n.constIn(7, "P");
            for (int i = 0; i < p.size(); i++) if (p.get(i) != 0) throw n.unsupported("peephole weights P are not supported");
        }
        lower(n, 4, LSTM_BLOCKS, List.of("Sigmoid", "Tanh", "Tanh"));
    }

    static void gru(NodeView n) {
        if (n.attrInt("linear_before_reset", 0) != 1)
            throw n.unsupported("linear_before_reset=0 is not supported; Kiln's GRU applies the reset gate after the recurrent product "
                    + "(linear_before_reset=1, as PyTorch exports nn.GRU)");
        lower(n, 3, GRU_BLOCKS, List.of("Sigmoid", "Tanh"));
    }

    private static void lower(NodeView n, int gates, int[] blocks, List<String> defaultActs) {
        String direction = n.attrString("direction", "forward");
        if (!direction.equals("forward") && !direction.equals("bidirectional"))
            throw n.unsupported("direction '" + direction + "' is not supported; Kiln imports forward and bidirectional " + n.opType() + "s");
        int dirs = direction.equals("bidirectional") ? 2 : 1;
        List<String> acts = n.attrStrings("activations");
        if (!acts.isEmpty() && !acts.equals(dirs == 1 ? defaultActs : concat(defaultActs, defaultActs)))
            throw n.unsupported("activations " + acts + " are not supported (only the default " + String.join(", ", defaultActs) + " per direction)");
        if (n.hasAttr("clip")) throw n.unsupported("clip is not supported");
        if (n.hasAttr("activation_alpha") || n.hasAttr("activation_beta")) throw n.unsupported("activation_alpha/beta are not supported");
        boolean batchFirst = n.attrInt("layout", 0) != 0;
        int h = (int) n.attrInt("hidden_size", -1);
        int[] x = n.dims(0);
        if (x.length != 3) throw n.malformed("X must have rank 3, got " + Arrays.toString(x));
        int steps = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1], features = x[2];

        ConstTensor w = n.constIn(1, "W"), r = n.constIn(2, "R");
        if (h <= 0 && w.dims().length == 3) h = w.dims()[1] / gates;
        expectDims(n, "W", w, dirs, gates * h, features);
        expectDims(n, "R", r, dirs, gates * h, h);
        float[] bias = new float[dirs * 2 * gates * h];
        if (n.has(3)) {
            ConstTensor b = n.constIn(3, "B");
            expectDims(n, "B", b, dirs, 2 * gates * h);
            for (int i = 0; i < bias.length; i++) bias[i] = (float) b.get(i);
        }
        if (n.has(4)) {
            ConstTensor lens = n.constIn(4, "sequence_lens");
            for (int i = 0; i < lens.size(); i++)
                if (lens.getLong(i) != steps)
                    throw n.unsupported("sequence_lens " + lens.describe() + " differ from the sequence length " + steps + "; only full-length sequences are supported");
        }

        String base = n.origin();
        List<String> in = new ArrayList<>();
        in.add(n.ir(0));
        int states = gates == 4 ? 2 : 1;
        boolean state = false;
        for (int s = 0; s < states; s++) state |= !isZeroOrAbsent(n, 5 + s);
        if (state)
            for (int s = 0; s < states; s++) in.add(initialState(n, 5 + s, dirs, batch, h, batchFirst, base + (s == 0 ? ".h0" : ".c0")));
        int gh = gates * h;
        HostTensor wAll = w.toHost(), rAll = r.toHost(), bAll = HostTensor.of(Shape.of(dirs * 2 * gh), bias);
        for (int d = 0; d < dirs; d++) {
            String sfx = d == 1 ? "_reverse" : "";
            in.add(n.constant(base + ".weight_ih" + sfx, reorder(wAll, d * gh, gh, features, h, blocks)));
            in.add(n.constant(base + ".weight_hh" + sfx, reorder(rAll, d * gh, gh, h, h, blocks)));
            in.add(n.constant(base + ".bias_ih" + sfx, reorder(bAll, 2 * d * gh, gh, 1, h, blocks).reshape(Shape.of(gh))));
            in.add(n.constant(base + ".bias_hh" + sfx, reorder(bAll, (2 * d + 1) * gh, gh, 1, h, blocks).reshape(Shape.of(gh))));
        }
        Op op = gates == 4 ? new Lstm(h, 1, batchFirst, state, dirs == 2) : new Gru(h, 1, batchFirst, state, dirs == 2);
        String seq = n.emit("seq", op, in);

        if (n.used(0)) {
            String y;
            if (batchFirst) y = n.ctx.emit(n.out(0), new Reshape(new int[]{batch, steps, dirs, h}), List.of(seq), n.origin());
            else if (dirs == 1) y = n.ctx.emit(n.out(0), new Reshape(new int[]{steps, 1, batch, h}), List.of(seq), n.origin());
            else {
                String split = n.emit("dirs", new Reshape(new int[]{steps, batch, dirs, h}), List.of(seq));
                y = n.ctx.emit(n.out(0), new Transpose(0, 2, 1, 3), List.of(split), n.origin());
            }
            n.setIr(0, y);
        }
        if (n.used(1)) {
            int timeAxis = batchFirst ? 1 : 0;
            if (dirs == 1) {
                n.setIr(1, n.ctx.emit(n.out(1), new Slice(new int[]{timeAxis}, new int[]{steps - 1}, new int[]{steps}, new int[]{1}),
                        List.of(seq), n.origin()));
            } else {
                // the forward direction ends at the last step, the reverse one at the first
                String fwd = n.emit("h_fwd", new Slice(new int[]{timeAxis, 2}, new int[]{steps - 1, 0}, new int[]{steps, h}, new int[]{1, 1}), List.of(seq));
                String rev = n.emit("h_rev", new Slice(new int[]{timeAxis, 2}, new int[]{0, h}, new int[]{1, 2 * h}, new int[]{1, 1}), List.of(seq));
                n.setIr(1, n.ctx.emit(n.out(1), new Concat(timeAxis), List.of(fwd, rev), n.origin()));
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return Collections.unmodifiableList(r);
    }

    private static boolean isZeroOrAbsent(NodeView n, int i) {
        if (!n.has(i)) return true;
        if (!(n.in(i) instanceof Value.Const c)) return false;
        for (int k = 0; k < c.data().size(); k++) if (c.data().get(k) != 0) return false;
        return true;
    }

    /** initial_h or initial_c as Kiln's [D,B,H]: the given tensor (transposed from [B,D,H] for layout 1) or zeros. */
    private static String initialState(NodeView n, int i, int dirs, int batch, int h, boolean batchFirst, String hint) {
        if (!n.has(i)) return n.constant(hint, HostTensor.zeros(dirs, batch, h));
        int[] d = n.dims(i);
        int[] want = batchFirst ? new int[]{batch, dirs, h} : new int[]{dirs, batch, h};
        if (!Arrays.equals(d, want)) throw n.malformed("input " + i + " has dims " + Arrays.toString(d) + ", expected " + Arrays.toString(want));
        String v = n.ir(i);
        if (!batchFirst) return v;
        Op toKiln = dirs == 1 ? new Reshape(new int[]{1, batch, h}) : new Transpose(1, 0, 2);
        return n.emit("state" + i, toKiln, List.of(v));
    }

    /**
     * rows [from, from+count) of a [.., cols] tensor (count = G·H gate rows in ONNX order) as a
     * [G·H, cols] tensor in Kiln's gate order.
     */
    private static HostTensor reorder(HostTensor t, int from, int count, int cols, int h, int[] blocks) {
        float[] src = t.data(), out = new float[count * cols];
        for (int gate = 0; gate < blocks.length; gate++)
            System.arraycopy(src, (from + blocks[gate] * h) * cols, out, gate * h * cols, h * cols);
        return HostTensor.of(Shape.of(count, cols), out);
    }

    private static void expectDims(NodeView n, String what, ConstTensor t, int... dims) {
        if (!Arrays.equals(t.dims(), dims))
            throw n.unsupported(what + " is " + Arrays.toString(t.dims()) + ", expected " + Arrays.toString(dims)
                    + " for " + dims[0] + " direction(s) and hidden_size " + n.attrInt("hidden_size", -1));
    }
}
