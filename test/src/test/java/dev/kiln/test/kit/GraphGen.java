package dev.kiln.test.kit;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.*;
import dev.kiln.ir.testing.RandomActs;
import dev.kiln.ir.testing.RandomEpilogues;
import dev.kiln.test.kit.DataGen.Role;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.IntStream;

/**
 * Generates whole well-typed graphs over the op set, from {@link Choices}. A graph starts from
 * one input (a matrix, a sequence or an image), then takes 1..maxSteps steps: most add one random
 * op (all twenty ops, fused ones included, with random attributes that fit), some plant a
 * pattern the fusions look for or a near-miss of one ({@link Motifs}). In a chain every op reads
 * the latest value; in a DAG any earlier value, so values get several consumers and branches
 * meet. Sinks become outputs, except nodes left dead on purpose; now and then also a value other
 * nodes read, or an input itself. Inputs no node reads stay in the signature. Every type comes from the op's
 * own shape rule (nodes are added through {@link GraphBuilder#add}); every value stays below
 * {@code maxElements}, so the reference interpreter stays fast. Ranks stay ≤ 4, except that a
 * reshape now and then makes a rank-5 or rank-6 value (a channel or pixel shuffle's), which only
 * movement and element-wise ops read ({@link #anyRank}).
 */
public final class GraphGen {
    /**
     * @param maxElements the largest value of a graph; one graph in {@code bigPercent} (a choice) may hold 8 times
     *                    as many, with sizes beyond the kernels' register tiles ({@link Sizes#WIDE_BIG})
     * @param oddNames    names the printer must quote (spaces, quotes, newlines), for the text round trip
     */
    public record Options(int maxSteps, int maxElements, int bigPercent, boolean oddNames) {
        public static final Options DEFAULT = new Options(8, 2048, 20, false);
    }

    /** A case from choices. */
    public interface Generator { Case generate(Choices c); }

    public static Generator finite(Options o) { return c -> new GraphGen(c, o).build(); }

    /** The same graphs and data as {@link #finite}, with NaN and ±∞ written into some inputs. */
    public static Generator nonFinite(Options o) { return c -> DataGen.injectNonFinite(new GraphGen(c, o).build(), c); }

    final Choices c;
    final Options o;
    final GraphBuilder b;
    final Map<String, HostTensor> inputData = new LinkedHashMap<>();
    final List<String> values = new ArrayList<>();       // inputs and node results, in order
    final Set<String> consumed = new HashSet<>(), dead = new HashSet<>();
    private final Motifs motifs;
    private final ImageOpGen image;
    private final IndexOpGen index;
    private boolean chain, big;
    private int counter, nodes, maxElements;

    private GraphGen(Choices c, Options o) {
        this.c = c;
        this.o = o;
        this.b = new GraphBuilder(o.oddNames && c.chance(30) ? "odd \"graph\" " + c.below(10) : "g");
        this.motifs = new Motifs(this);
        this.image = new ImageOpGen(this);
        this.index = new IndexOpGen(this);
    }

    private Case build() {
        chain = c.chance(40);
        big = c.chance(o.bigPercent);
        maxElements = big ? 8 * o.maxElements : o.maxElements;
        switch (c.below(4)) {
            case 0 -> input(pick(1, 2), wide());
            case 1 -> input(pick(1, 2), small(), wide());
            case 2 -> input(pick(1, 2), small(), small(), spatial());
            default -> input(wide());
        }
        int steps = 1 + c.below(o.maxSteps), added = 0;
        for (int attempt = 0; added < steps && attempt < 4 * steps; attempt++) {
            c.begin();
            int before = nodes;
            if (c.chance(30)) motifs.any();
            else randomOp();
            if (nodes > before) added++;
            c.end();
        }
        if (nodes == 0) add(Unary.of(Unary.Kind.RELU), values.getFirst());
        for (String v : values)       // sinks, and now and then a value that is read as well
            if (b.producer(v) != null && !dead.contains(v) && (!consumed.contains(v) || c.chance(8))) b.output(v);
        if (b.build().outputs().isEmpty()) b.output(values.getLast());
        if (c.chance(4)) b.output(values.getFirst());                 // an input returned as it is
        return new Case(b.build(), inputData).pruned();
    }

    // ---- one random op on existing values; false when nothing fits ----

    private void randomOp() {
        // pool is listed twice: it needs a rank-4 operand, so it fails more often than it fits
        List<BooleanSupplier> ops = List.of(this::unary, this::binary, this::scale, this::linear,
                this::conv, this::softmax, this::reshape, this::transpose, this::batchNorm, this::matMul, this::pool, this::pool,
                this::slice, this::concat, image::reduce, image::layerNorm, this::fusedConv, this::fusedLinear, this::fusedDwPw,
                this::lstm, this::gru, this::attention, image::convTranspose, image::pad, image::resize,
                index::gather, index::cumSum, image::fusedExpandDwPw,
                image::residualLayerNorm, this::pooledConv);
        for (int attempt = 0; attempt < 4; attempt++) if (c.pick(ops).getAsBoolean()) return;
    }

    private boolean unary() {
        String x = anyRank(t -> true);
        // every function ir defines; the ones that jump or leave their domain only on exact inputs
        return add(new Unary(RandomActs.draw(c::below, false, b.producer(x) != null)), x) != null;
    }

    private boolean scale() {
        return add(new Scale(c.pickFloat(2f, 0.5f, -1f, 0.125f, (float) (1 / Math.sqrt(3)), -3.7f, 1e-3f)), anyRank(t -> true)) != null;
    }

    private boolean binary() {
        String a = anyRank(t -> true);
        int[] ad = type(a).shape().dims();
        Binary.Kind kind = c.pick(Binary.Kind.values());
        // a comparison jumps from 0 to 1, so it compares exact values only (inputs, constants): its mask is then the same everywhere
        if (!kind.total() && b.producer(a) != null) kind = c.pick(new Binary.Kind[]{Binary.Kind.MIN, Binary.Kind.MAX, Binary.Kind.PRELU});
        String other = kind.total() && !chain && c.chance(40) ? existing(t -> Motifs.broadcasts(ad, t.shape().dims(), maxElements)) : null;
        if (other == null) {
            int[] d = switch (c.below(5)) {
                case 0 -> ad;                                      // same shape
                case 1 -> new int[0];                              // scalar
                case 2 -> new int[]{1};
                case 3 -> ad.length == 0 ? ad : new int[]{ad[ad.length - 1]};      // along the last axis
                default -> broadcastable(ad);
            };
            other = c.chance(60) ? constant("k", kind == Binary.Kind.DIV ? Role.NONZERO : Role.WEIGHT, 1, d) : input(d);
        }
        return add(new Binary(kind), c.chance(70) ? List.of(a, other) : List.of(other, a)) != null;
    }

    private int[] broadcastable(int[] ad) {
        int[] d = new int[c.below(ad.length + 1)];
        for (int i = 0; i < d.length; i++) d[i] = c.chance(30) ? 1 : ad[ad.length - d.length + i];
        return d;
    }

    private boolean softmax() {
        String x = operand(t -> t.rank() >= 1);
        return x != null && add(new Softmax(type(x).rank() - 1 - c.below(type(x).rank())), x) != null;
    }

    private boolean batchNorm() {
        String x = operand(t -> t.rank() >= 2);
        if (x == null) return false;
        int ch = type(x).dim(1);
        return add(new BatchNorm2d(c.pickFloat(1e-5f, 1e-3f)), x, constant("gamma", Role.WEIGHT, 1, ch),
                constant("beta", Role.WEIGHT, 1, ch), constant("mean", Role.WEIGHT, 1, ch), constant("var", Role.POSITIVE, 1, ch)) != null;
    }

    private boolean linear() {
        String x = operand(t -> t.rank() >= 1);
        return x != null && motifs.linear(x, wide(), c.chance(60)) != null;
    }

    private boolean fusedLinear() {
        String x = operand(t -> t.rank() >= 1);
        if (x == null) return false;
        int n = wide(), k = type(x).dim(-1);
        Epilogue epi = epilogue();
        List<String> in = new ArrayList<>(List.of(x, constant("fc", Role.WEIGHT, k, n, k), constant("fcb", Role.WEIGHT, 1, n)));
        int[] d = type(x).shape().dims();
        d[d.length - 1] = n;
        if (epi.hasExtra()) in.add(like(TensorType.f32(d)));
        return add(new Linear(epi), in) != null;
    }

    private boolean conv() {
        String x = operand(t -> t.rank() == 4);
        if (x == null) return false;
        Motifs.ConvAttrs a = motifs.randomConv(type(x), 3);
        int cin = type(x).dim(1), groups = c.chance(30) ? cin : divisor(cin), out = groups * c.between(1, 3);
        return motifs.conv(x, out, groups, a, c.chance(50)) != null;
    }

    private boolean fusedConv() {
        String x = operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x);
        Motifs.ConvAttrs a = motifs.randomConv(xt, 3);
        int groups = c.chance(30) ? xt.dim(1) : divisor(xt.dim(1)), out = groups * c.between(1, 2), cg = xt.dim(1) / groups;
        Conv2d op = new Conv2d(a.stride(), a.padding(), a.dilation(), groups, epilogue());
        TensorType w = TensorType.f32(out, cg, a.kh(), a.kw());
        List<String> in = new ArrayList<>(List.of(x, constant("w", Role.WEIGHT, cg * a.kh() * a.kw(), w.shape().dims()),
                constant("b", Role.WEIGHT, 1, out)));
        if (op.epilogue().hasExtra()) in.add(like(op.plain().inferType(List.of(xt, w))));
        return add(op, in) != null;
    }

    /** A conv whose epilogue ends with a max or average pool (what fuse-pool-into-conv makes); 32 channels take the CPU's fused kernel. */
    private boolean pooledConv() {
        String x = operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x);
        Motifs.ConvAttrs a = motifs.randomConv(xt, 3);
        int groups = c.chance(75) ? 1 : divisor(xt.dim(1)), out = groups * c.pickInt(1, 3, 8, 32), cg = xt.dim(1) / groups;
        TensorType w = TensorType.f32(out, cg, a.kh(), a.kw());
        TensorType yt = new Conv2d(a.stride(), a.padding(), a.dilation(), groups).inferType(List.of(xt, w));
        int[] k = {c.pickInt(1, 2, 3), c.pickInt(1, 2, 3)}, p = new int[4], s = {c.pickInt(1, 2, 3), c.pickInt(1, 2, 3)};
        for (int ax = 0; ax < 2; ax++) {
            p[ax] = c.below(k[ax]);
            p[ax + 2] = c.below(k[ax]);
            if (k[ax] > yt.dim(2 + ax) + p[ax] + p[ax + 2]) { k[ax] = 1; p[ax] = 0; p[ax + 2] = 0; }
        }
        Pool pool = new Pool(c.chance(50), Ints.of(k), Ints.of(s), Ints.of(p), c.chance(50));
        if (pool.max() && pool.countIncludePad()) pool = new Pool(true, pool.kernel(), pool.stride(), pool.padding(), false);
        Conv2d op = new Conv2d(a.stride(), a.padding(), a.dilation(), groups, Epilogue.of(epilogueAct()).then(pool));
        return add(op, x, constant("w", Role.WEIGHT, cg * a.kh() * a.kw(), w.shape().dims()), constant("b", Role.WEIGHT, 1, out)) != null;
    }

    private boolean fusedDwPw() {
        String x = operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x);
        int ch = xt.dim(1), out = wide();
        Motifs.ConvAttrs a = motifs.randomConv(xt, 3);
        FusedDwPwConv op = new FusedDwPwConv(a.stride(), a.padding(), a.dilation(), epilogueAct(), epilogue());
        List<String> in = new ArrayList<>(List.of(x, constant("dw", Role.WEIGHT, a.kh() * a.kw(), ch, 1, a.kh(), a.kw()),
                constant("dwb", Role.WEIGHT, 1, ch), constant("pw", Role.WEIGHT, ch, out, ch, 1, 1), constant("pwb", Role.WEIGHT, 1, out)));
        if (op.epilogue().hasExtra()) {
            TensorType mid4 = op.depthwise(ch).inferType(List.of(xt, TensorType.f32(ch, 1, a.kh(), a.kw())));
            in.add(like(TensorType.f32(mid4.dim(0), out, mid4.dim(2), mid4.dim(3))));
        }
        return add(op, in) != null;
    }

    private boolean matMul() {
        String a = operand(t -> t.rank() >= 2);
        if (a == null) return false;
        TensorType at = type(a);
        int k = at.dim(-1);
        String other = !chain && c.chance(30) ? existing(t -> t.rank() >= 2 && t.dim(-2) == k && Motifs.broadcasts(batch(at), batch(t), maxElements)) : null;
        if (other == null) {
            int rank = 2 + c.below(at.rank() - 1);
            int[] d = new int[rank];
            for (int i = 0; i < rank - 2; i++) {
                int ai = at.rank() - rank + i;
                d[i] = ai < 0 || c.chance(40) ? 1 : at.dim(ai);
            }
            d[rank - 2] = k;
            d[rank - 1] = wide();
            other = c.chance(70) ? constant("m", Role.WEIGHT, k, d) : input(d);
        }
        if (c.chance(50)) return add(new MatMul(), a, other) != null;
        // a matmul is an epilogue anchor too: its extra operand is a third, result-shaped one
        MatMul op = new MatMul(epilogue());
        List<String> in = new ArrayList<>(List.of(a, other));
        if (op.epilogue().hasExtra()) in.add(like(new MatMul().inferType(List.of(at, type(other)))));
        return add(op, in) != null;
    }

    private boolean pool() {
        String x = operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = type(x);
        int[] k = {c.pickInt(1, 2, 3), c.pickInt(1, 2, 3)}, p = new int[4], s = {c.pickInt(1, 2, 3), c.pickInt(1, 2, 3)};
        for (int ax = 0; ax < 2; ax++) {
            p[ax] = c.below(k[ax]);
            p[ax + 2] = c.below(k[ax]);
            if (k[ax] > xt.dim(2 + ax) + p[ax] + p[ax + 2]) { k[ax] = 1; p[ax] = 0; p[ax + 2] = 0; }
        }
        return add(c.chance(50) ? new AvgPool2d(k, s, p, c.chance(50)) : new MaxPool2d(k, s, p), x) != null;
    }

    private boolean reshape() {
        String x = anyRank(t -> true);
        return add(new Reshape(Motifs.factorise(c, type(x).shape().size(), 1 + c.below(c.chance(20) ? 6 : 4))), x) != null;
    }

    private boolean transpose() {
        String x = anyRank(t -> t.rank() >= 1);
        return x != null && add(new Transpose(Motifs.permutation(c, type(x).rank())), x) != null;
    }

    private boolean slice() {
        String x = anyRank(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = type(x).shape().dims();
        List<Integer> axes = new ArrayList<>();
        for (int a = 0; a < d.length; a++) if (a == d.length - 1 || c.chance(40)) axes.add(a);
        int n = axes.size();
        int[] ax = new int[n], starts = new int[n], ends = new int[n], steps = new int[n];
        for (int i = 0; i < n; i++) {
            ax[i] = axes.get(i);
            starts[i] = c.below(d[ax[i]]);
            ends[i] = d[ax[i]] - c.below(d[ax[i]] - starts[i]);
            steps[i] = 1 + c.below(3);
        }
        return add(new Slice(ax, starts, ends, steps), x) != null;
    }

    private boolean concat() {
        String x = anyRank(t -> t.rank() >= 1);
        if (x == null) return false;
        TensorType xt = type(x);
        int axis = c.below(xt.rank());
        List<String> in = new ArrayList<>(List.of(x));
        for (int i = 1 + c.below(2); i > 0; i--) {
            String other = !chain && c.chance(40) ? existing(t -> Motifs.sameOffAxis(t, xt, axis)) : null;
            if (other == null) {
                int[] d = xt.shape().dims();
                d[axis] = small();
                other = c.chance(50) ? constant("cat", Role.WEIGHT, 1, d) : input(d);
            }
            in.add(c.below(in.size() + 1), other);
        }
        return add(new Concat(axis), in) != null;
    }

    private boolean lstm() { return recurrent(false); }

    private boolean gru() { return recurrent(true); }

    /** An LSTM or a GRU: one or two layers, or one bidirectional layer. */
    private boolean recurrent(boolean gru) {
        String x = operand(t -> t.rank() == 3 && t.dim(2) <= 2 * Sizes.L + 1);
        if (x == null) return false;
        TensorType xt = type(x);
        int h = c.pickInt(1, 2, 3, 5, Sizes.L - 1, Sizes.L + 1), layers = 1 + c.below(2);
        boolean batchFirst = c.chance(50), initial = c.chance(50), bidir = layers == 1 && c.chance(50);
        int batchSize = batchFirst ? xt.dim(0) : xt.dim(1), dirs = bidir ? 2 : 1, gates = gru ? 3 : 4;
        List<String> in = new ArrayList<>(List.of(x));
        if (initial) for (int s = 0; s < (gru ? 1 : 2); s++) in.add(like(TensorType.f32(layers * dirs, batchSize, h)));
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < dirs; d++) {
                int f = l == 0 ? xt.dim(2) : h;
                in.add(constant("w_ih", Role.WEIGHT, f, gates * h, f));
                in.add(constant("w_hh", Role.WEIGHT, h, gates * h, h));
                in.add(constant("b_ih", Role.WEIGHT, 1, gates * h));
                in.add(constant("b_hh", Role.WEIGHT, 1, gates * h));
            }
        return add(gru ? new Gru(h, layers, batchFirst, initial, bidir) : new Lstm(h, layers, batchFirst, initial, bidir), in) != null;
    }

    private boolean attention() { return AttentionGen.attention(this); }

    // ---- shared with Motifs ----

    /** The value an op reads: in a chain the latest that fits, in a DAG any that fits; null if none. Rank ≤ 4. */
    String operand(Predicate<TensorType> ok) { return anyRank(t -> t.rank() <= 4 && ok.test(t)); }

    /** {@link #operand} of any rank (up to 6): for the movement and element-wise ops, which take every rank. */
    String anyRank(Predicate<TensorType> ok) {
        List<String> fits = values.stream().filter(v -> ok.test(type(v))).toList();
        if (fits.isEmpty()) return null;
        return chain ? fits.getLast() : fits.get(fits.size() - 1 - c.below(fits.size()));
    }

    /** Some existing value of that kind (a second consumer), or null. */
    String existing(Predicate<TensorType> ok) {
        List<String> fits = values.stream().filter(v -> ok.test(type(v))).toList();
        return fits.isEmpty() ? null : fits.get(c.below(fits.size()));
    }

    /** A value of type t: an earlier one of that type (a residual), or a fresh input or constant. */
    String like(TensorType t) {
        String v = c.chance(40) ? existing(t::equals) : null;
        if (v != null) return v;
        return c.chance(50) ? input(t.shape().dims()) : constant("c", Role.WEIGHT, 1, t.shape().dims());
    }

    String input(int... dims) {
        String n = b.input(name("x"), TensorType.f32(dims));
        inputData.put(n, DataGen.draw(c, Role.INPUT, 1, dims));
        values.add(n);
        return n;
    }

    String constant(String hint, Role role, int fanIn, int... dims) {
        return b.constant(name(hint), DataGen.draw(c, role, fanIn, dims));
    }

    /** Adds op(in) unless its result would be too big or of too high a rank (4, or 6 for the ops that are not reductions); null then. */
    String add(Op op, List<String> in) {
        for (String v : in) if (v == null) return null;
        TensorType t;
        try {
            t = op.inferType(in.stream().map(this::type).toList());
        } catch (dev.kiln.ir.ShapeException e) {
            return null;                        // attributes that do not fit after all: skip the op
        }
        if (t.rank() > (OpPattern.of(op) == OpPattern.REDUCTION ? 4 : 6) || t.shape().size() > maxElements || t.shape().size() == 0) return null;
        String v = b.add(name("t"), op, in, op.mnemonic() + counter);
        nodes++;
        consumed.addAll(in);
        values.add(v);
        return v;
    }

    String add(Op op, String... in) { return add(op, java.util.Arrays.asList(in)); }

    String name(String hint) {
        int n = counter++;
        if (o.oddNames && c.chance(15)) return b.freshName(c.pick(hint + " " + n, "say \"" + hint + "\" " + n, "back\\slash" + n, "line\nbreak" + n, n + "-ünï$" + hint));
        return b.freshName(hint + n);
    }

    TensorType type(String v) { return b.typeOf(v); }
    int small() { return c.pickInt(Sizes.SMALL); }
    int wide() { return c.pickInt(big ? Sizes.WIDE_BIG : Sizes.WIDE); }
    int keys() { return c.pickInt(Sizes.LONG_KEYS); }
    int spatial() { return c.pickInt(big ? Sizes.SPATIAL_BIG : Sizes.SPATIAL); }
    int pick(int... options) { return c.pickInt(options); }
    /** A fused op's activation: none half the time, else any that is safe on a computed value. */
    Act epilogueAct() { return c.chance(50) ? Act.NONE : RandomActs.draw(c::below, false, true); }

    /** An anchor's epilogue: empty a quarter of the time, else a random list of post-ops in any valid order. */
    Epilogue epilogue() { return c.chance(25) ? Epilogue.NONE : RandomEpilogues.draw(c::below, true); }

    int divisor(int n) { return c.pick(IntStream.rangeClosed(1, n).filter(q -> n % q == 0).boxed().toList()); }

    static int[] batch(TensorType t) {
        int[] d = new int[t.rank() - 2];
        for (int i = 0; i < d.length; i++) d[i] = t.dim(i);
        return d;
    }
}
