package dev.kiln.backend.cpu;

import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.*;
import dev.kiln.ir.testing.RandomActs;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.backend.cpu.OpCase.Builder.L;

/** One-node graphs over each op of ir, with seeded random shapes and attributes that are always valid. */
final class OpCases {
    private OpCases() {}

    /** Conv geometry: a window of the given output size, stride, dilation and asymmetric padding. */
    record Window(int k, int stride, int dilation, int padBegin, int padEnd, int in) {
        /** Picks an input extent that gives about out outputs (at least 1). */
        static Window of(OpCase.Builder c, int out, int maxK, int maxStride, int maxDilation, int maxPad) {
            int k = c.between(1, maxK), s = c.between(1, maxStride), d = c.between(1, maxDilation);
            int p0 = c.between(0, maxPad), p1 = c.between(0, maxPad);
            int in = Math.max(1, (out - 1) * s + d * (k - 1) + 1 - p0 - p1);
            return new Window(k, s, d, p0, p1, in);
        }
    }

    static OpCase conv2d(OpCase.Builder c) {
        int mode = c.index % 3;  // dense, grouped, depthwise
        int g = switch (mode) { case 0 -> 1; case 1 -> c.between(2, 3); default -> c.dim(L + 1); };
        int cg = mode == 2 ? 1 : c.between(1, 3), og = mode == 2 ? c.pick(1, 1, 2) : c.dim(9);
        Window wy = Window.of(c, c.between(1, 4), 5, 3, 2, 3), wx = Window.of(c, c.dim(2 * L + 2), 5, 3, 2, 3);
        String x = c.input(c.between(1, 2), g * cg, wy.in(), wx.in());
        String w = c.weight(g * og, cg, wy.k(), wx.k());
        Conv2d op = new Conv2d(new int[]{wy.stride(), wx.stride()}, new int[]{wy.padBegin(), wx.padBegin(), wy.padEnd(), wx.padEnd()},
                new int[]{wy.dilation(), wx.dilation()}, g);
        return c.build(c.coin() ? c.add(op, x, w, c.weight(g * og)) : c.add(op, x, w));
    }

    static OpCase batchNorm(OpCase.Builder c) {
        int[] d = c.dims(c.between(2, 4), 2 * L + 1);
        d[0] = c.between(1, 3);
        int ch = d[1];
        String x = c.input(d);
        float eps = c.pick(1e-5f, 1e-3f, 0.1f);
        return c.build(c.add(new BatchNorm2d(eps), x, c.weight(ch), c.weight(ch), c.weight(ch), c.uniform(0.05f, 3f, ch)));
    }

    static OpCase matMul(OpCase.Builder c) {
        // a quarter of the time wide enough (≥ 2 panels of 2L columns) for GemmLowering.packB
        int batchRank = c.between(0, 2), m = c.dim(2 * L + 1), k = c.dim(2 * L + 1), n = c.r.nextInt(4) == 0 ? c.between(4 * L, 6 * L + 3) : c.dim(2 * L + 2);
        int[] batch = c.dims(batchRank, 4);
        String a = c.operand(concat(broadcastable(c, batch), m, k));
        String b = c.operand(concat(broadcastable(c, batch), k, n));
        return c.build(c.add(new MatMul(), a, b));
    }

    static OpCase linear(OpCase.Builder c) {
        int[] lead = c.dims(c.between(0, 3), 2 * L + 1);
        int k = c.dim(2 * L + 1), n = c.dim(2 * L + 2);
        String x = c.input(concat(lead, k)), w = c.weight((float) (1 / Math.sqrt(k)), n, k);
        return c.build(c.coin() ? c.add(new Linear(), x, w, c.weight(n)) : c.add(new Linear(), x, w));
    }

    static OpCase binary(OpCase.Builder c) {
        Binary.Kind kind = Binary.Kind.values()[c.index % 4];
        int[] out = c.dims(c.between(0, 4), 2 * L + 1);
        int[] da = broadcastable(c, out), db = broadcastable(c, out);
        if (c.r.nextInt(5) == 0) db = new int[0];  // a rank-0 scalar
        if (c.coin()) { int[] t = da; da = db; db = t; }
        String a = c.operand(da), b = c.operand(db);
        return c.build(c.add(new Binary(kind), a, b));
    }

    static OpCase unary(OpCase.Builder c) {
        // case by case through every function ir defines, on exact inputs (so the ones that jump too)
        Act act = RandomActs.cycle(c.index, n -> c.between(0, n - 1), false, false);
        c.elementwise = true;
        String x = c.input(c.pickScale(1f, 10f, 100f), c.dims(c.between(1, 4), 2 * L + 1));
        return c.build(c.add(new Unary(act), x));
    }

    static OpCase scale(OpCase.Builder c) {
        c.elementwise = true;
        String x = c.input(c.dims(c.between(1, 4), 2 * L + 1));
        return c.build(c.add(new Scale(c.pick(0.125f, -3f, 1f, 1e-3f)), x));
    }

    static OpCase softmax(OpCase.Builder c) {
        int rank = c.between(1, 4);
        c.elementwise = true;
        String x = c.input(c.pickScale(1f, 10f, 100f), c.dims(rank, 2 * L + 1));
        return c.build(c.add(new Softmax(c.index % rank), x));
    }

    static OpCase maxPool(OpCase.Builder c) { return pool(c, 0); }

    static OpCase avgPool(OpCase.Builder c) { return pool(c, c.coin() ? 1 : 2); }

    /** kind 0 max, 1 average counting padding, 2 average over in-bounds elements. */
    private static OpCase pool(OpCase.Builder c, int kind) {
        int kh = c.between(1, 4), kw = c.between(1, 4), sh = c.between(1, 3), sw = c.between(1, 3);
        int[] pad = {c.between(0, kh - 1), c.between(0, kw - 1), c.between(0, kh - 1), c.between(0, kw - 1)};
        int h = Math.max(c.dim(9), kh - pad[0] - pad[2]), w = Math.max(c.dim(2 * L + 2), kw - pad[1] - pad[3]);
        c.elementwise = true;
        String x = c.input(c.between(1, 2), c.dim(5), h, w);
        int[] k = {kh, kw}, s = {sh, sw};
        Op op = kind == 0 ? new MaxPool2d(k, s, pad) : new AvgPool2d(k, s, pad, kind == 1);
        return c.build(c.add(op, x));
    }

    /**
     * Reduce of a random kind over a random non-empty set of axes of a rank-1..4 input: inner or
     * outer axes, both forms of the kernel, long lines split into pieces. LOG_SUM reads |x| so its
     * sums are positive (log of a sum near 0 is ill-conditioned in both directions).
     */
    static OpCase reduce(OpCase.Builder c) {
        int rank = c.between(1, 4);
        int[] d = c.dims(rank, 7);
        d[rank - 1] = c.r.nextInt(4) == 0 ? c.between(4 * L, 40 * L) : c.dim(2 * L + 2);
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < rank; i++) if (c.coin()) axes.add(i);
        if (axes.isEmpty()) axes.add(c.between(0, rank - 1));
        Reduce.Kind kind = Reduce.Kind.values()[c.index % Reduce.Kind.values().length];
        String x = c.input(d);
        if (kind == Reduce.Kind.LOG_SUM) x = c.add(Unary.of(Unary.Kind.ABS), x);
        if (kind == Reduce.Kind.PROD) x = c.add(Unary.of(Unary.Kind.EXP), c.add(new Scale(0.1f), x));  // products near 1, no underflow
        return c.build(c.add(new Reduce(kind, dev.kiln.ir.Ints.of(axes.stream().mapToInt(Integer::intValue).toArray()), c.coin()), x));
    }

    /**
     * LayerNorm over a random trailing block of a rank-1..4 input, without affine, with scale, or
     * with scale and bias; a third of the time the input sits at 1e4 + N(0,1), where a mean rounded
     * to f32 (ulp 1e-3) or E[x²] − E[x]² would be visibly off.
     */
    static OpCase layerNorm(OpCase.Builder c) {
        int rank = c.between(1, 4);
        int[] d = c.dims(rank, 7);
        d[rank - 1] = c.r.nextInt(4) == 0 ? c.between(4 * L, 20 * L) : c.dim(2 * L + 2);
        int axis = c.between(0, rank - 1);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, rank);
        String x = c.input(d);
        if (c.index % 3 == 0) x = c.add(new Binary(Binary.Kind.ADD), x, c.uniform(1e4f, 1e4f, 1));
        LayerNorm op = new LayerNorm(axis, c.pick(1e-5f, 1e-3f, 0f));
        return c.build(switch (c.index % 4) {
            case 0 -> c.add(op, x);
            case 1 -> c.add(op, x, c.weight(trailing));
            default -> c.add(op, x, c.weight(trailing), c.weight(trailing));
        });
    }

    /**
     * ResidualLayerNorm, LN(x + r), as {@link #layerNorm}: a third of the time x sits at 1e4 + N(0,1)
     * (the sum's mean is large; one-pass moments must not cancel), sometimes r is x itself.
     */
    static OpCase residualLayerNorm(OpCase.Builder c) {
        int rank = c.between(1, 4);
        int[] d = c.dims(rank, 7);
        d[rank - 1] = c.r.nextInt(4) == 0 ? c.between(4 * L, 20 * L) : c.dim(2 * L + 2);
        int axis = c.between(0, rank - 1);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, rank);
        String x = c.input(d), r = c.r.nextInt(5) == 0 ? x : c.input(d);
        if (c.index % 3 == 0) x = c.add(new Binary(Binary.Kind.ADD), x, c.uniform(1e4f, 1e4f, 1));
        var op = new dev.kiln.ir.op.ResidualLayerNorm(axis, c.pick(1e-5f, 1e-3f, 0f));
        return c.build(switch (c.index % 4) {
            case 0 -> c.add(op, x, r);
            case 1 -> c.add(op, x, r, c.weight(trailing));
            default -> c.add(op, x, r, c.weight(trailing), c.weight(trailing));
        });
    }

    static OpCase reshape(OpCase.Builder c) {
        int[] d = c.dims(c.between(1, 4), 2 * L + 1);
        int n = 1;
        for (int v : d) n *= v;
        List<Integer> to = new ArrayList<>();
        int rank = c.between(1, 4);
        for (int i = 0; i < rank - 1; i++) {
            List<Integer> divisors = new ArrayList<>();
            for (int q = 1; q <= n; q++) if (n % q == 0) divisors.add(q);
            int q = divisors.get(c.r.nextInt(divisors.size()));
            to.add(q);
            n /= q;
        }
        to.add(n);
        c.elementwise = true;
        return c.build(c.add(new Reshape(to.stream().mapToInt(Integer::intValue).toArray()), c.input(d)));
    }

    static OpCase transpose(OpCase.Builder c) {
        int rank = c.between(1, 4);
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < rank; i++) perm.add(i);
        java.util.Collections.shuffle(perm, new java.util.Random(c.r.nextLong()));
        c.elementwise = true;
        return c.build(c.add(new Transpose(perm.stream().mapToInt(Integer::intValue).toArray()), c.input(c.dims(rank, 2 * L + 1))));
    }

    static OpCase concat(OpCase.Builder c) {
        int[] d = c.dims(c.between(1, 4), 2 * L + 1);
        int axis = c.r.nextInt(d.length), parts = c.between(1, 4);
        List<String> in = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            d[axis] = c.dim(2 * L + 1);
            in.add(c.operand(d.clone()));
        }
        c.elementwise = true;
        return c.build(c.add(new Concat(axis), in));
    }

    static OpCase slice(OpCase.Builder c) {
        int[] d = c.dims(c.between(1, 4), 2 * L + 2);
        List<int[]> spec = new ArrayList<>();  // axis, start, end, step
        for (int a = 0; a < d.length; a++) {
            if (c.coin() && spec.size() < d.length - 1 || spec.isEmpty() && a == d.length - 1) {
                int start = c.r.nextInt(d[a]), end = c.between(start + 1, d[a]);
                spec.add(new int[]{a, start, end, c.between(1, 3)});
            }
        }
        int[][] cols = new int[4][spec.size()];
        for (int i = 0; i < spec.size(); i++) for (int j = 0; j < 4; j++) cols[j][i] = spec.get(i)[j];
        c.elementwise = true;
        return c.build(c.add(new Slice(cols[0], cols[1], cols[2], cols[3]), c.input(d)));
    }

    static OpCase lstm(OpCase.Builder c) { return recurrent(c, false); }

    static OpCase gru(OpCase.Builder c) { return recurrent(c, true); }

    /** An LSTM or a GRU: one or two layers, or one bidirectional layer; both layouts; with and without initial state. */
    private static OpCase recurrent(OpCase.Builder c, boolean gru) {
        int layers = 1 + c.index % 2, hid = c.pick(1, 2, 3, L / 4, L / 2 - 1, L / 2, L / 2 + 1, L - 1, L, L + 1, 2 * L + 1);
        hid = Math.max(1, hid);
        boolean batchFirst = c.index / 2 % 2 == 1, init = c.index / 4 % 2 == 1, bidir = layers == 1 && c.index / 8 % 2 == 1;
        int dirs = bidir ? 2 : 1, gates = gru ? 3 : 4;
        int steps = c.between(1, 7), batch = c.pick(1, 2, 3, 5), feat = c.dim(2 * L + 1);
        String x = c.input(batchFirst ? new int[]{batch, steps, feat} : new int[]{steps, batch, feat});
        List<String> in = new ArrayList<>(List.of(x));
        if (init) for (int s = 0; s < (gru ? 1 : 2); s++) in.add(c.input(layers * dirs, batch, hid));
        float ws = (float) (1.5 / Math.sqrt(hid));
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < dirs; d++) {
                in.add(c.weight(ws, gates * hid, l == 0 ? feat : hid));
                in.add(c.weight(ws, gates * hid, hid));
                in.add(c.weight(0.5f, gates * hid));
                in.add(c.weight(0.5f, gates * hid));
            }
        c.elementwise = true;
        return c.build(c.add(gru ? new Gru(hid, layers, batchFirst, init, bidir) : new Lstm(hid, layers, batchFirst, init, bidir), in));
    }

    static OpCase fusedConv2d(OpCase.Builder c) {
        Epilogue epi = epilogue(c);
        int g = c.pick(1, 1, 2, 3), cg = c.between(1, 3), og = c.dim(9);
        Window wy = Window.of(c, c.between(1, 3), 3, 2, 2, 2), wx = Window.of(c, c.dim(2 * L + 2), 3, 2, 2, 2);
        String x = c.input(c.between(1, 2), g * cg, wy.in(), wx.in());
        Conv2d op = new Conv2d(new int[]{wy.stride(), wx.stride()}, new int[]{wy.padBegin(), wx.padBegin(), wy.padEnd(), wx.padEnd()},
                new int[]{wy.dilation(), wx.dilation()}, g, epi);
        List<String> in = new ArrayList<>(List.of(x, c.weight(g * og, cg, wy.k(), wx.k()), c.weight(g * og)));
        if (epi.hasExtra()) in.add(c.input(op.plain().inferType(in.stream().map(c::type).toList()).shape().dims()));
        return c.build(c.add(op, in));
    }

    /**
     * A conv Winograd F(2×2,3×3) takes (dense 3×3, stride 1, no dilation) with an epilogue and bias:
     * channels from 1 to past two 8-row GEMM blocks (so O &lt; 8 and leftover rows too), odd and
     * even sizes (edge tiles), padding 0 or 1 on each side, 1–3 images; one try in five is wide
     * enough (C = O = 64, 2 images of 24×24) to run in several chunks of tiles.
     */
    static OpCase winogradConv2d(OpCase.Builder c) {
        Epilogue epi = epilogue(c);
        boolean big = c.index % 5 == 4;
        int ch = big ? 64 : c.pick(1, 3, c.between(1, 40)), o = big ? 64 : c.pick(1, 7, 8, 17, c.between(1, 40));
        int images = big ? 2 : c.between(1, 3);
        int[] pad = {c.between(0, 1), c.between(0, 1), c.between(0, 1), c.between(0, 1)};
        int h = big ? 24 : Math.max(3 - pad[0] - pad[2], c.dim(2 * L + 3)), w = big ? 24 : Math.max(3 - pad[1] - pad[3], c.dim(2 * L + 3));
        String x = c.input(images, ch, h, w);
        Conv2d op = new Conv2d(new int[]{1, 1}, pad, new int[]{1, 1}, 1, epi);
        List<String> in = new ArrayList<>(List.of(x, c.weight((float) (1 / Math.sqrt(9 * ch)), o, ch, 3, 3), c.weight(o)));
        if (epi.hasExtra()) in.add(c.input(op.plain().inferType(in.stream().map(c::type).toList()).shape().dims()));
        return c.build(c.add(op, in));
    }

    static OpCase fusedLinear(OpCase.Builder c) {
        Epilogue epi = epilogue(c);
        int[] lead = c.dims(c.between(0, 3), L + 2);
        int k = c.dim(2 * L + 1), n = c.dim(2 * L + 2);
        List<String> in = new ArrayList<>(List.of(c.input(concat(lead, k)), c.weight((float) (1 / Math.sqrt(k)), n, k), c.weight(n)));
        if (epi.hasExtra()) in.add(c.input(concat(lead, n)));
        return c.build(c.add(new Linear(epi), in));
    }

    /** A batched matmul (broadcast batches, as {@link #matMul}) with an epilogue; the extra operand, if any, is result-shaped. */
    static OpCase matMulEpilogue(OpCase.Builder c) {
        Epilogue epi = epilogue(c);
        int m = c.dim(2 * L + 1), k = c.dim(2 * L + 1), n = c.dim(2 * L + 2);
        int[] batch = c.dims(c.between(0, 2), 4);
        List<String> in = new ArrayList<>(List.of(c.operand(concat(broadcastable(c, batch), m, k)), c.operand(concat(broadcastable(c, batch), k, n))));
        if (epi.hasExtra()) in.add(c.input(new MatMul().inferType(in.stream().map(c::type).toList()).shape().dims()));
        return c.build(c.add(new MatMul(epi), in));
    }

    static OpCase fusedDwPw(OpCase.Builder c) {
        Epilogue epi = epilogue(c);
        Act mid = RandomActs.draw(n -> c.between(0, n - 1), true, true);
        int ch = c.dim(L + 1), out = c.dim(17);
        int sy = c.pick(1, 2), sx = c.coin() ? sy : c.pick(1, 2);
        // tall outputs sometimes, so tasks take several rows; short ones split output channels (ConvLowering.dwPwSplit)
        Window wy = Window.of(c, c.coin() ? c.between(1, 4) : c.between(9, 40), 5, 1, 2, 3), wx = Window.of(c, c.dim(2 * L + 2), 5, 1, 2, 3);
        wy = new Window(wy.k(), sy, wy.dilation(), wy.padBegin(), wy.padEnd(), Math.max(1, wy.in() * sy));
        wx = new Window(wx.k(), sx, wx.dilation(), wx.padBegin(), wx.padEnd(), Math.max(1, wx.in() * sx));
        String x = c.input(c.between(1, 2), ch, wy.in(), wx.in());
        FusedDwPwConv op = new FusedDwPwConv(new int[]{sy, sx}, new int[]{wy.padBegin(), wx.padBegin(), wy.padEnd(), wx.padEnd()},
                new int[]{wy.dilation(), wx.dilation()}, mid, epi);
        List<String> in = new ArrayList<>(List.of(x, c.weight(ch, 1, wy.k(), wx.k()), c.weight(ch),
                c.weight((float) (1 / Math.sqrt(ch)), out, ch, 1, 1), c.weight(out)));
        if (epi.hasExtra()) {
            TensorType t = new FusedDwPwConv(op.stride(), op.padding(), op.dilation(), mid, Epilogue.NONE)
                    .inferType(in.stream().map(c::type).toList());
            in.add(c.input(t.shape().dims()));
        }
        return c.build(c.add(op, in));
    }

    /**
     * Case by case through every activation safe on a computed value (and none) as the first
     * post-op, sometimes a second one after it, and each way of joining the extra operand: none,
     * an add before the activations, a mul after them, or both at random places.
     */
    static Epilogue epilogue(OpCase.Builder c) {
        List<Epilogue.PostOp> ops = new ArrayList<>(Epilogue.of(epilogueAct(c)).ops());
        if (c.coin()) ops.addAll(Epilogue.of(RandomActs.draw(n -> c.between(0, n - 1), false, true)).ops());
        switch (c.index / 6 % 4) {
            case 1 -> ops.addFirst(Epilogue.ADD);
            case 2 -> ops.addLast(Epilogue.MUL);
            case 3 -> {
                ops.add(c.between(0, ops.size()), Epilogue.ADD);
                ops.add(c.between(0, ops.size()), Epilogue.MUL);
            }
            default -> { }
        }
        return new Epilogue(ops);
    }

    /** The activation of case c.index, in turn through every one safe on a computed value (and none). */
    static Act epilogueAct(OpCase.Builder c) { return RandomActs.cycle(c.index, n -> c.between(0, n - 1), true, true); }

    /** A suffix of out's axes, each either out's extent or 1 (NumPy-broadcastable to out). */
    static int[] broadcastable(OpCase.Builder c, int[] out) {
        int rank = c.between(0, out.length);
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = c.r.nextInt(4) == 0 ? 1 : out[out.length - rank + i];
        return d;
    }

    static int[] concat(int[] a, int... b) {
        int[] r = new int[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
