package dev.kiln.ir;

import dev.kiln.ir.op.*;

import dev.kiln.ir.testing.RandomActs;
import dev.kiln.ir.testing.RandomEpilogues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A seeded generator of random well-typed graphs over the whole op set. Inputs and constants
 * get small shapes with 1, odd and prime sizes; then 1..12 nodes, each a random op whose main
 * operand is an existing value (weights are fresh constants). Nodes are added with
 * {@link GraphBuilder#add}, so every type comes from the op's own shape rule. Some values,
 * origins and the graph itself get odd names (spaces, quotes, backslashes, newlines) to
 * exercise the printer's quoting. The same seed always gives the same graph.
 */
final class RandomGraphs {
    private static final int[] DIMS = {1, 1, 2, 3, 4, 5, 7};
    /** Values larger than this are never picked as a main operand, so graphs stay cheap to run. */
    private static final int MAX_ELEMENTS = 4096;

    private final SplittableRandom r;
    private final GraphBuilder b;
    private final List<String> values = new ArrayList<>();
    private int counter;
    private boolean emptyNameUsed;

    private RandomGraphs(long seed) {
        r = new SplittableRandom(seed);
        b = new GraphBuilder(r.nextInt(5) == 0 ? "odd graph \"" + seed + "\"" : "g" + seed);
    }

    static Graph generate(long seed) { return new RandomGraphs(seed).build(); }

    /** Standard-normal data for every input of g, reproducibly from the seed. */
    static Map<String, HostTensor> inputsFor(Graph g, long seed) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        for (Graph.Value v : g.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        return in;
    }

    private Graph build() {
        values.add(b.input(name("x"), TensorType.f32(pick(1, 2), dim(), dim(), dim())));
        if (r.nextInt(10) < 7) values.add(b.input(name("seq"), TensorType.f32(pick(1, 2), dim(), dim())));
        for (int i = r.nextInt(3); i > 0; i--) values.add(b.input(name("in"), TensorType.f32(randomDims(1 + r.nextInt(4)))));
        for (int i = r.nextInt(3); i > 0; i--) values.add(constant("c", randomDims(r.nextInt(4))));
        List<BooleanSupplier> ops = List.of(this::conv2d, this::batchNorm, this::matMul, this::linear, this::binary,
                this::unary, this::scale, this::softmax, this::pool, this::reduce, this::layerNorm, this::residualLayerNorm, this::where, this::reshape,
                this::transpose, this::concat, this::slice, this::lstm, this::gru, this::fusedDwPw, this::fusedAttention, this::convTranspose2d, this::pad, this::resize,
                this::gather, this::cumSum, this::fusedExpandDwPw);
        int nodes = 1 + r.nextInt(12), added = 0;
        for (int attempt = 0; added < nodes && attempt < 1000; attempt++)
            if (ops.get(r.nextInt(ops.size())).getAsBoolean()) added++;
        String last = values.getLast();
        b.output(last);
        if (r.nextInt(3) == 0) {
            String other = values.get(r.nextInt(values.size()));
            if (!other.equals(last)) b.output(other);
        }
        return b.build();
    }

    // ---- ops: each returns false when no existing value can be its main operand ----

    /** conv2d (bias optional) or conv2d with an epilogue (bias, post-ops, extra). */
    private boolean conv2d() {
        String x = value(t -> t.rank() == 4);
        if (x == null) return false;
        ConvShape s = convShape(type(x), true);
        if (r.nextBoolean()) {
            List<String> in = new ArrayList<>(List.of(x, constant("w", s.weight)));
            if (r.nextBoolean()) in.add(constant("b", s.weight[0]));
            return add(new Conv2d(s.stride, s.padding, s.dilation, s.groups), in);
        }
        Conv2d op = new Conv2d(s.stride, s.padding, s.dilation, s.groups, RandomEpilogues.draw(r::nextInt, true));
        List<String> in = new ArrayList<>(List.of(x, constant("w", s.weight), constant("b", s.weight[0])));
        if (op.epilogue().hasExtra()) in.add(extra(op.plain().inferType(List.of(type(x), TensorType.f32(s.weight)))));
        return add(op, in);
    }

    /** conv_transpose2d: random stride, cropping, output padding, dilation, groups; bias optional, sometimes an epilogue. */
    private boolean convTranspose2d() {
        String x = value(t -> t.rank() == 4 && t.dim(2) <= 8 && t.dim(3) <= 8);
        if (x == null) return false;
        TensorType xt = type(x);
        int c = xt.dim(1), g = c % 2 == 0 && r.nextBoolean() ? 2 : 1, s = 1 + r.nextInt(3), d = 1 + r.nextInt(2), k = 1 + r.nextInt(3);
        int op = r.nextInt(Math.max(s, d)), p = r.nextInt(k);
        ConvTranspose2d t = new ConvTranspose2d(Ints.of(s, s), Ints.of(p, 0, 0, p), Ints.of(op, 0), Ints.of(d, d), g,
                r.nextBoolean() ? Epilogue.NONE : RandomEpilogues.draw(r::nextInt, true));
        int og = 1 + r.nextInt(3);
        TensorType out;
        try {
            out = t.plain().inferType(List.of(xt, TensorType.f32(c, og, k, k)));
        } catch (ShapeException e) {
            return false;   // cropped away entirely
        }
        List<String> in = new ArrayList<>(List.of(x, constant("w", c, og, k, k)));
        if (!t.epilogue().isNone() || r.nextBoolean()) in.add(constant("b", og * g));
        if (t.epilogue().hasExtra()) in.add(extra(out));
        return add(t, in);
    }

    /** fused_dw_pw_conv with a 1×1 expansion (to m channels) in front: an inverted-residual block. */
    private boolean fusedExpandDwPw() {
        String x = value(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x), expanded;
        int c = xt.dim(1), m = 1 + r.nextInt(8), o = 1 + r.nextInt(8);
        ConvShape s = convShape(expanded = TensorType.f32(xt.dim(0), m, xt.dim(2), xt.dim(3)), false);
        var op = new dev.kiln.ir.op.FusedExpandDwPwConv(s.stride, s.padding, s.dilation, RandomActs.draw(r::nextInt, true, true),
                RandomActs.draw(r::nextInt, true, true), RandomEpilogues.draw(r::nextInt, true));
        List<String> in = new ArrayList<>(List.of(x, constant("ew", m, c, 1, 1), constant("ewb", m),
                constant("dw", m, 1, s.weight[2], s.weight[3]), constant("dwb", m), constant("pw", o, m, 1, 1), constant("pwb", o)));
        if (op.epilogue().hasExtra()) {
            TensorType dwOut = op.dwPw().depthwise(m).inferType(List.of(expanded, TensorType.f32(m, 1, s.weight[2], s.weight[3])));
            in.add(extra(TensorType.f32(dwOut.dim(0), o, dwOut.dim(2), dwOut.dim(3))));
        }
        return add(op, in);
    }

    private boolean fusedDwPw() {
        String x = value(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x);
        int c = xt.dim(1), o = 1 + r.nextInt(8);
        ConvShape s = convShape(xt, false);
        Act mid = RandomActs.draw(r::nextInt, true, true);
        FusedDwPwConv op = new FusedDwPwConv(s.stride, s.padding, s.dilation, mid, RandomEpilogues.draw(r::nextInt, true));
        List<String> in = new ArrayList<>(List.of(x, constant("dw", c, 1, s.weight[2], s.weight[3]), constant("dwb", c),
                constant("pw", o, c, 1, 1), constant("pwb", o)));
        if (op.epilogue().hasExtra()) {
            TensorType dwOut = op.depthwise(c).inferType(List.of(xt, TensorType.f32(c, 1, s.weight[2], s.weight[3])));
            in.add(extra(TensorType.f32(dwOut.dim(0), o, dwOut.dim(2), dwOut.dim(3))));
        }
        return add(op, in);
    }

    private boolean batchNorm() {
        String x = value(t -> t.rank() >= 2);
        if (x == null) return false;
        int c = type(x).dim(1);
        String var = b.constant(name("var"), HostTensor.uniform(Shape.of(c), r.nextLong(), 0.5f, 1.5f));
        values.add(var);
        return add(new BatchNorm2d(pickFloat(1e-5f, 1e-3f, 0.1f)), List.of(x, constant("gamma", c), constant("beta", c), constant("mean", c), var));
    }

    private boolean matMul() {
        String a = value(t -> t.rank() >= 2);
        if (a == null) return false;
        TensorType at = type(a);
        int k = at.dim(-1);
        String other = r.nextBoolean() ? value(t -> t.rank() >= 2 && t.dim(-2) == k && broadcasts(batch(at), batch(t))) : null;
        if (other == null) {
            int rank = 2 + r.nextInt(3);
            int[] d = new int[rank];
            for (int i = 0; i < rank - 2; i++) {
                int ai = at.rank() - rank + i; // the aligned batch axis of a, if any
                d[i] = ai < 0 || at.dim(ai) == 1 ? pick(1, 2, 3) : (r.nextBoolean() ? 1 : at.dim(ai));
            }
            d[rank - 2] = k;
            d[rank - 1] = dim();
            other = constant("m", d);
        }
        MatMul op = new MatMul(r.nextBoolean() ? Epilogue.NONE : RandomEpilogues.draw(r::nextInt, true));
        List<String> in = new ArrayList<>(List.of(a, other));
        if (op.epilogue().hasExtra()) in.add(extra(new MatMul().inferType(List.of(at, type(other)))));
        return add(op, in);
    }

    /** linear (bias optional) or linear with an epilogue (bias, post-ops, extra). */
    private boolean linear() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int n = dim();
        List<String> in = new ArrayList<>(List.of(x, constant("fc", n, type(x).dim(-1))));
        if (r.nextBoolean()) {
            if (r.nextBoolean()) in.add(constant("fcb", n));
            return add(new Linear(), in);
        }
        in.add(constant("fcb", n));
        Linear op = new Linear(RandomEpilogues.draw(r::nextInt, true));
        int[] d = type(x).shape().dims();
        d[d.length - 1] = n;
        if (op.epilogue().hasExtra()) in.add(extra(TensorType.f32(d)));
        return add(op, in);
    }

    private boolean binary() {
        String a = value(t -> true);
        if (a == null) return false;
        int[] ad = type(a).shape().dims();
        String other = r.nextBoolean() ? value(t -> broadcasts(ad, t.shape().dims())) : null;
        if (other == null) {
            int[] d = new int[r.nextInt(ad.length + 1)];
            for (int i = 0; i < d.length; i++) d[i] = r.nextInt(10) < 3 ? 1 : ad[ad.length - d.length + i];
            other = constant("k", d);
        }
        Binary op = new Binary(pickOne(Binary.Kind.values()));
        return add(op, r.nextBoolean() ? List.of(a, other) : List.of(other, a));
    }

    private boolean unary() {
        String x = value(t -> true);
        if (x == null) return false;
        return add(new Unary(RandomActs.draw(r::nextInt, false, false)), List.of(x));
    }

    private boolean scale() {
        String x = value(t -> true);
        return x != null && add(new Scale(pickFloat(0.5f, -2f, (float) (1 / Math.sqrt(3)), 1e-20f, (float) r.nextGaussian())), List.of(x));
    }

    private boolean softmax() {
        String x = value(t -> t.rank() >= 1);
        return x != null && add(new Softmax(r.nextInt(type(x).rank())), List.of(x));
    }

    private boolean pool() {
        String x = value(t -> t.rank() == 4);
        if (x == null) return false;
        int[][] w = window(type(x));
        return add(r.nextBoolean() ? new MaxPool2d(w[0], w[1], w[2]) : new AvgPool2d(w[0], w[1], w[2], r.nextBoolean()), List.of(x));
    }

    /** where(mask, a, b), the three broadcast together; the mask is any value (non-zero is true). */
    private boolean where() {
        String a = value(t -> true);
        if (a == null) return false;
        int[] ad = type(a).shape().dims();
        String other = value(t -> broadcasts(ad, t.shape().dims()));
        if (other == null) return false;
        int[] od = type(other).shape().dims();
        // shapes that broadcast pairwise broadcast together: on each axis every size is 1 or the one other size
        String mask = value(t -> broadcasts(ad, t.shape().dims()) && broadcasts(od, t.shape().dims()));
        return mask != null && add(new Where(), r.nextBoolean() ? List.of(mask, a, other) : List.of(mask, other, a));
    }

    /** A reduction of a random kind over a random non-empty set of axes. */
    private boolean reduce() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int rank = type(x).rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < rank; i++) if (r.nextBoolean()) axes.add(i);
        if (axes.isEmpty()) axes.add(r.nextInt(rank));
        Reduce.Kind[] kinds = Reduce.Kind.values();
        return add(new Reduce(kinds[r.nextInt(kinds.length)], Ints.of(axes.stream().mapToInt(Integer::intValue).toArray()), r.nextBoolean()),
                List.of(x));
    }

    /** LayerNorm over a random trailing block, with no affine, a scale, or scale and bias. */
    private boolean layerNorm() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        int axis = r.nextInt(d.length), affine = r.nextInt(3);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, d.length);
        List<String> in = new ArrayList<>(List.of(x));
        if (affine >= 1) in.add(constant("ln_g", trailing));
        if (affine == 2) in.add(constant("ln_b", trailing));
        return add(new LayerNorm(axis, pickFloat(1e-5f, 1e-3f)), in);
    }

    /** ResidualLayerNorm: LN(x + r), r a constant of x's shape, with no affine, a scale, or scale and bias. */
    private boolean residualLayerNorm() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        int axis = r.nextInt(d.length), affine = r.nextInt(3);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, d.length);
        List<String> in = new ArrayList<>(List.of(x, constant("ln_r", d)));
        if (affine >= 1) in.add(constant("ln_g", trailing));
        if (affine == 2) in.add(constant("ln_b", trailing));
        return add(new dev.kiln.ir.op.ResidualLayerNorm(axis, pickFloat(1e-5f, 1e-3f)), in);
    }

    private boolean reshape() {
        String x = value(t -> true);
        if (x == null) return false;
        int size = type(x).shape().elementCount(), rank = size == 1 ? r.nextInt(3) : 1 + r.nextInt(4);
        int[] d = new int[rank];
        int left = size;
        for (int i = 0; i < rank - 1; i++) {
            List<Integer> divisors = new ArrayList<>();
            for (int q = 1; q <= left; q++) if (left % q == 0) divisors.add(q);
            d[i] = divisors.get(r.nextInt(divisors.size()));
            left /= d[i];
        }
        if (rank > 0) d[rank - 1] = left;
        return add(new Reshape(d), List.of(x));
    }

    private boolean transpose() {
        String x = value(t -> true);
        if (x == null) return false;
        int[] perm = new int[type(x).rank()];
        for (int i = 0; i < perm.length; i++) { int j = r.nextInt(i + 1); perm[i] = perm[j]; perm[j] = i; }
        return add(new Transpose(perm), List.of(x));
    }

    private boolean concat() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        TensorType xt = type(x);
        int axis = r.nextInt(xt.rank());
        List<String> in = new ArrayList<>(List.of(x));
        for (int i = r.nextInt(3); i > 0; i--) {
            String other = r.nextBoolean() ? value(t -> sameOffAxis(t, xt, axis)) : null;
            if (other == null) {
                int[] d = xt.shape().dims();
                d[axis] = dim();
                other = constant("cat", d);
            }
            in.add(r.nextInt(in.size() + 1), other);
        }
        return add(new Concat(axis), in);
    }

    private boolean slice() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        List<Integer> axes = new ArrayList<>();
        for (int a = 0; a < d.length; a++) if (r.nextBoolean() || a == d.length - 1) axes.add(a);
        int n = axes.size();
        int[] ax = new int[n], starts = new int[n], ends = new int[n], steps = new int[n];
        for (int i = 0; i < n; i++) {
            ax[i] = axes.get(i);
            starts[i] = r.nextInt(d[ax[i]]);
            ends[i] = starts[i] + 1 + r.nextInt(d[ax[i]] - starts[i]);
            steps[i] = 1 + r.nextInt(3);
        }
        return add(new Slice(ax, starts, ends, steps), List.of(x));
    }

    /** pad in any mode (reflect pads below each axis' size) with a random begin and end per axis. */
    private boolean pad() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        Pad.Mode mode = Pad.Mode.values()[r.nextInt(3)];
        int[] pads = new int[2 * d.length];
        for (int i = 0; i < pads.length; i++) pads[i] = r.nextInt(mode == Pad.Mode.REFLECT ? Math.min(3, d[i % d.length]) : 3);
        return add(new Pad(mode, pads, mode == Pad.Mode.CONSTANT ? pickFloat(0f, -1.5f, 2f) : 0f), List.of(x));
    }

    /** resize of a rank-3 or rank-4 value, every mode, coordinate transform and rounding, with or without a given scale. */
    private boolean resize() {
        String x = value(t -> t.rank() == 3 || t.rank() == 4);
        if (x == null) return false;
        int axes = type(x).rank() - 2;
        int[] size = new int[axes];
        for (int i = 0; i < axes; i++) size[i] = 1 + r.nextInt(9);
        float scale = r.nextBoolean() ? 0f : pickFloat(0.5f, 1.5f, 2f);
        return add(new Resize(Resize.Mode.values()[r.nextInt(2)], Resize.Coord.values()[r.nextInt(4)], Resize.Nearest.values()[r.nextInt(4)],
                Ints.of(size), axes == 2 ? scale : 0f, scale), List.of(x));
    }

    /** gather along a random axis by a constant index tensor of rank 0 to 2 (negative indices included). */
    private boolean gather() {
        String x = value(t -> t.rank() >= 1 && t.rank() <= 3);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        int axis = r.nextInt(d.length);
        int[] kd = randomDims(r.nextInt(3));
        float[] k = new float[(int) Shape.of(kd).size()];
        for (int i = 0; i < k.length; i++) k[i] = r.nextInt(2 * d[axis]) - d[axis];
        return add(new Gather(axis), List.of(x, b.constant(name("idx"), HostTensor.of(Shape.of(kd), k))));
    }

    private boolean cumSum() {
        String x = value(t -> t.rank() >= 1);
        if (x == null) return false;
        return add(new CumSum(r.nextInt(type(x).rank()), r.nextBoolean(), r.nextBoolean()), List.of(x));
    }

    private boolean lstm() { return recurrent(false); }

    private boolean gru() { return recurrent(true); }

    /** An LSTM or a GRU: one or two layers, or one bidirectional layer. */
    private boolean recurrent(boolean gru) {
        String x = value(t -> t.rank() == 3);
        if (x == null) return false;
        TensorType xt = type(x);
        int h = 1 + r.nextInt(4), layers = 1 + r.nextInt(2);
        boolean batchFirst = r.nextBoolean(), initial = r.nextBoolean(), bidir = layers == 1 && r.nextBoolean();
        int batch = batchFirst ? xt.dim(0) : xt.dim(1), dirs = bidir ? 2 : 1, gates = gru ? 3 : 4;
        List<String> in = new ArrayList<>(List.of(x));
        if (initial) {
            in.add(constant("h0", layers * dirs, batch, h));
            if (!gru) in.add(constant("c0", layers * dirs, batch, h));
        }
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < dirs; d++) {
                in.add(constant("w_ih", gates * h, l == 0 ? xt.dim(2) : h));
                in.add(constant("w_hh", gates * h, h));
                in.add(constant("b_ih", gates * h));
                in.add(constant("b_hh", gates * h));
            }
        return add(gru ? new Gru(h, layers, batchFirst, initial, bidir) : new Lstm(h, layers, batchFirst, initial, bidir), in);
    }

    private boolean fusedAttention() {
        String q = value(t -> t.rank() == 3 && t.dim(1) <= 64 && t.dim(2) <= 64);
        if (q == null) return false;
        TensorType qt = type(q);
        boolean qcm = r.nextBoolean(), kcm = r.nextBoolean(), vcm = r.nextBoolean(), ocm = r.nextBoolean(), mask = r.nextBoolean();
        int batch = qt.dim(0), m = qcm ? qt.dim(2) : qt.dim(1), d = qcm ? qt.dim(1) : qt.dim(2);
        boolean self = r.nextBoolean();
        int n = self ? m : dim(), e = self ? d : dim();
        // self-attention reads q itself as k and v (in q's layout); otherwise fresh constants
        String k = self ? q : constant("k", kcm ? new int[]{batch, d, n} : new int[]{batch, n, d});
        String v = self ? q : constant("v", vcm ? new int[]{batch, e, n} : new int[]{batch, n, e});
        if (self) { kcm = qcm; vcm = qcm; }
        Epilogue epi = RandomEpilogues.draw(r::nextInt, true);
        List<String> in = new ArrayList<>(List.of(q, k, v));
        if (mask) in.add(constant("mask", batch, m, n));
        if (epi.hasExtra()) in.add(extra(ocm ? TensorType.f32(batch, e, m) : TensorType.f32(batch, m, e)));
        return add(new FusedAttention((float) (1 / Math.sqrt(d)), mask, qcm, kcm, vcm, ocm, epi), in);
    }

    // ---- helpers ----

    private record ConvShape(int[] stride, int[] padding, int[] dilation, int groups, int[] weight) {}

    /** Random conv attributes that fit x; grouped (incl. depthwise) when allowed, else depthwise. */
    private ConvShape convShape(TensorType x, boolean grouped) {
        int c = x.dim(1), groups, o;
        if (!grouped || r.nextInt(3) == 0) { groups = c; o = c * (grouped ? pick(1, 2) : 1); }
        else {
            List<Integer> divisors = new ArrayList<>();
            for (int q = 1; q <= c; q++) if (c % q == 0) divisors.add(q);
            groups = divisors.get(r.nextInt(divisors.size()));
            o = groups * (1 + r.nextInt(3));
        }
        int[] stride = {pick(1, 1, 2, 3), pick(1, 1, 2, 3)}, dilation = {pick(1, 1, 2), pick(1, 1, 2)};
        int[] padding = {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)}, k = {pick(1, 2, 3), pick(1, 3)};
        for (int a = 0; a < 2; a++)
            if (dilation[a] * (k[a] - 1) + 1 > x.dim(2 + a) + padding[a] + padding[a + 2]) { k[a] = 1; dilation[a] = 1; }
        return new ConvShape(stride, padding, dilation, groups, new int[]{o, c / groups, k[0], k[1]});
    }

    /** {kernel, stride, padding} for a pooling window that fits x; padding stays below the kernel. */
    private int[][] window(TensorType x) {
        int[] k = {pick(1, 2, 3), pick(1, 2, 3)}, p = new int[4];
        for (int a = 0; a < 2; a++) {
            p[a] = r.nextInt(k[a]);
            p[a + 2] = r.nextInt(k[a]);
            if (k[a] > x.dim(2 + a) + p[a] + p[a + 2]) { k[a] = 1; p[a] = 0; p[a + 2] = 0; }
        }
        return new int[][]{k, {pick(1, 2, 3), pick(1, 2, 3)}, p};
    }

    /** A result-shaped extra operand: an existing value of that type, or a fresh constant. */
    private String extra(TensorType t) {
        String v = r.nextBoolean() ? value(t::equals) : null;
        return v != null ? v : constant("extra", t.shape().dims());
    }

    private static boolean broadcasts(int[] a, int[] c) {
        for (int i = 1; i <= Math.min(a.length, c.length); i++) {
            int x = a[a.length - i], y = c[c.length - i];
            if (x != y && x != 1 && y != 1) return false;
        }
        long size = 1;
        for (int i = 0; i < Math.max(a.length, c.length); i++) {
            int x = i < a.length ? a[a.length - 1 - i] : 1, y = i < c.length ? c[c.length - 1 - i] : 1;
            size *= Math.max(x, y);
        }
        return size <= MAX_ELEMENTS;
    }

    private static int[] batch(TensorType t) {
        int[] d = new int[t.rank() - 2];
        for (int i = 0; i < d.length; i++) d[i] = t.dim(i);
        return d;
    }

    private static boolean sameOffAxis(TensorType t, TensorType x, int axis) {
        if (t.rank() != x.rank()) return false;
        for (int i = 0; i < t.rank(); i++) if (i != axis && t.dim(i) != x.dim(i)) return false;
        return true;
    }

    /** A random existing value satisfying the predicate and small enough, or null. */
    private String value(Predicate<TensorType> ok) {
        List<String> fits = new ArrayList<>();
        for (String v : values) if (type(v).shape().size() <= MAX_ELEMENTS && ok.test(type(v))) fits.add(v);
        return fits.isEmpty() ? null : fits.get(r.nextInt(fits.size()));
    }

    private boolean add(Op op, List<String> in) {
        String origin = switch (r.nextInt(6)) {
            case 0 -> "";
            case 1 -> "layer \"" + counter + "\"\\n\nnext";
            default -> "block" + r.nextInt(4) + "." + op.mnemonic();
        };
        values.add(b.add(r.nextInt(4) == 0 ? name("v") : b.freshName("t" + counter++), op, in, origin));
        return true;
    }

    private String constant(String hint, int... dims) {
        String n = b.constant(name(hint), HostTensor.normal(Shape.of(dims), r.nextLong()));
        values.add(n);
        return n;
    }

    /** Usually a plain identifier; sometimes one the printer must quote, or one that merely looks odd. */
    private String name(String hint) {
        int c = counter++;
        String n = switch (r.nextInt(12)) {
            case 0 -> hint + " " + c;
            case 1 -> "say \"" + hint + "\" " + c;
            case 2 -> "back\\slash\\" + c;
            case 3 -> "line\nbreak " + c;
            case 4 -> "//not a comment " + c;
            case 5 -> c + "-" + hint + ".ünï$";
            case 6 -> { if (emptyNameUsed) yield hint + c; emptyNameUsed = true; yield ""; }
            default -> hint + c;
        };
        return b.freshName(n);
    }

    private TensorType type(String v) { return b.typeOf(v); }
    private int dim() { return DIMS[r.nextInt(DIMS.length)]; }

    private int[] randomDims(int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = dim();
        return d;
    }


    private int pick(int... options) { return options[r.nextInt(options.length)]; }
    private float pickFloat(float... options) { return options[r.nextInt(options.length)]; }
    @SafeVarargs private <T> T pickOne(T... options) { return options[r.nextInt(options.length)]; }
}
