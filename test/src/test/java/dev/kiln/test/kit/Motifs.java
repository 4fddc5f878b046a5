package dev.kiln.test.kit;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.testing.RandomActs;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;
import dev.kiln.test.kit.DataGen.Role;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.ir.op.Binary.Kind.ADD;
import static dev.kiln.ir.op.Binary.Kind.DIV;
import static dev.kiln.ir.op.Binary.Kind.MUL;

/**
 * The patterns the passes rewrite, planted on purpose, each with near-misses the pass must leave
 * alone (the refusal reasons of the fusion report): conv/linear → batch norm (the conv result
 * read twice; BN on a non-conv value); depthwise → activation → pointwise → epilogue (a second
 * consumer, two activations or a scale between, a 3×3, strided, padded or grouped pointwise); attention in sequence
 * layout and SAGAN's (softmax on axis 1, the scores or probabilities read twice, a mask that
 * broadcasts, scaling after the mask, a V shared over the batch); conv/linear epilogues (a bias
 * that is not per channel; an add after the activation, a gate through a reshape and an
 * activation after the gate, which all fuse; a gate by another tensor than the residual, which
 * would need a second extra operand); reshape/transpose chains (identity and inverse permutations); duplicate
 * subexpressions; subgraphs over constants only; dead nodes.
 */
final class Motifs {
    private final GraphGen g;
    private final Choices c;

    Motifs(GraphGen g) {
        this.g = g;
        this.c = g.c;
    }

    void any() {
        List<Runnable> all = List.of(this::epilogueChain, this::convBatchNorm, this::depthwisePointwise, this::sequenceAttention,
                this::saganAttention, this::reshapeChain, this::duplicates, this::constantOnly, this::deadNodes, this::masked,
                this::epilogueChain, this::depthwisePointwise, this::sequenceAttention);     // the fusions' patterns twice as often
        c.pick(all).run();
    }

    /**
     * A mask, then where: the mask compares exact values (a fresh input against a constant, at times
     * negated) or is an input itself (any non-zero is true), broadcast against the value it selects
     * in; the other side is a constant fill (masked_fill) or another value.
     */
    private void masked() {
        String x = g.operand(t -> t.rank() >= 1);
        if (x == null) return;
        int[] d = g.type(x).shape().dims(), md = c.chance(50) ? d : new int[]{d[d.length - 1]};
        String probe = g.input(md), mask = probe;
        if (c.chance(75)) {
            Binary.Kind cmp = c.pick(new Binary.Kind[]{Binary.Kind.EQ, Binary.Kind.LT, Binary.Kind.LE, Binary.Kind.GT, Binary.Kind.GE});
            mask = g.add(new Binary(cmp), probe, c.chance(80) ? g.b.constant(g.name("t"), HostTensor.full(Shape.of(), c.pickFloat(0f, 0.5f, -1f)))
                    : g.input(md));
            if (mask != null && c.chance(25)) mask = g.add(Unary.of(Unary.Kind.NOT), mask);
        }
        String other = c.chance(60) ? g.b.constant(g.name("fill"), HostTensor.full(Shape.of(), c.pickFloat(0f, -1e4f, 1f))) : g.like(g.type(x));
        // a node the graph has no room for comes back null (seed 516357 of a 20,000-graph run)
        if (mask == null || other == null) return;
        g.add(new Where(), c.chance(50) ? List.of(mask, x, other) : List.of(mask, other, x));
    }

    /** conv or linear, then some of: bias add, residual add, activation, gate. */
    private void epilogueChain() {
        String x = c.chance(70) ? g.operand(t -> t.rank() == 4) : null;
        String y = x != null ? conv(x, g.wide(), 1, randomConv(g.type(x), 3), c.chance(50))
                : linear(g.operand(t -> t.rank() >= 1), g.wide(), c.chance(50));
        epilogue(y);
    }

    /** conv (or linear on [B,K]) → batch_norm2d (→ activation); near-misses: a second consumer, BN on a non-conv value. */
    private void convBatchNorm() {
        String x = g.operand(t -> t.rank() == 4), y;
        if (x == null || c.chance(20)) y = linear(g.operand(t -> t.rank() == 2), g.wide(), c.chance(50));
        else y = c.chance(85) ? conv(x, g.wide(), 1, randomConv(g.type(x), 3), c.chance(50)) : x;
        if (y == null) return;
        if (c.chance(20)) g.add(activation(), y);                    // near-miss: another consumer
        int ch = g.type(y).dim(1);
        y = g.add(new BatchNorm2d(c.pickFloat(1e-5f, 1e-3f)), y, g.constant("gamma", Role.WEIGHT, 1, ch),
                g.constant("beta", Role.WEIGHT, 1, ch), g.constant("mean", Role.WEIGHT, 1, ch), g.constant("var", Role.POSITIVE, 1, ch));
        if (y != null && c.chance(50)) g.add(activation(), y);
    }

    private void depthwisePointwise() {
        String x = g.operand(t -> t.rank() == 4 && t.dim(1) > 1);
        if (x == null) x = g.input(g.pick(1, 2), g.pick(2, 3, Sizes.L - 1, Sizes.L + 1), g.small(), g.spatial());
        if (c.chance(35)) {
            // an inverted residual's expansion (1×1 to 1-4× the channels, maybe an activation), which the pass takes in
            String e = conv(x, g.type(x).dim(1) * g.pick(1, 2, 4), 1, ConvAttrs.POINTWISE, c.chance(50));
            String expanded = e == null || c.chance(40) ? e : g.add(activation(), e);
            if (expanded != null) x = expanded;
        }
        TensorType xt = g.type(x);
        int ch = xt.dim(1), miss = c.below(10);                     // 0..5: near-misses; 6..9: the pattern
        String y = conv(x, ch, ch, randomConv(xt, 5), c.chance(50));
        if (y == null) return;
        if (miss == 1) g.add(activation(), y);                       // second consumer
        if (c.chance(50) || miss == 2) y = g.add(activation(), y);
        // a second activation (the fused op applies one between the convs), or a scale, which joins no epilogue
        if (miss == 2) y = c.chance(50) ? g.add(activation(), y) : g.add(new Scale(c.pickFloat(0.5f, 2f)), y);
        int out = g.wide(), groups = 1, k = miss == 3 ? 3 : 1, stride = miss == 4 ? 2 : 1, pad = miss == 3 || miss == 5 ? 1 : 0;
        if (miss == 0 && ch > 1) { groups = smallestFactor(ch); out = groups * g.pick(1, 2); }
        ConvAttrs pw = new ConvAttrs(new int[]{stride, stride}, new int[]{pad, pad, pad, pad}, new int[]{1, 1}, k, k);
        epilogue(conv(y, out, groups, pw, c.chance(50)));
    }

    /** Q·Kᵀ → scalings → optional mask (at times a key-padding one over several key tiles) → softmax(-1) → ·V. */
    private void sequenceAttention() {
        int bs = g.pick(1, 2), m = g.wide(), n = g.wide(), d = g.wide(), e = g.small(), miss = c.below(14);
        boolean padded = c.chance(35);
        if (padded) n = g.keys();
        String q, kt, v;
        String x = g.operand(t -> t.rank() == 3);
        if (x != null && c.chance(50)) {                               // self-attention with projections
            bs = g.type(x).dim(0);
            m = n = g.type(x).dim(1);
            q = linear(x, d, true);
            kt = g.add(new Transpose(new int[]{0, 2, 1}), linear(x, d, true));
            v = linear(x, e, true);
        } else {
            q = c.chance(25) ? g.add(new Transpose(new int[]{0, 2, 1}), g.input(bs, d, m)) : g.input(bs, m, d);
            kt = c.chance(50) ? g.add(new Transpose(new int[]{0, 2, 1}), g.input(bs, n, d)) : g.input(bs, d, n);
            v = miss == 5 && bs > 1 ? g.input(1, n, e) : g.like(TensorType.f32(bs, n, e));
        }
        String s = g.add(new MatMul(), q, kt);
        if (s == null) return;
        if (miss == 0) g.add(activation(), s);                        // the scores read twice
        if (miss == 3) s = mask(s, false, padded);                     // scaling after the mask

        for (int i = miss == 3 ? 1 + c.below(2) : c.below(3); i > 0; i--) s = scaling(s, d);   // miss 3 needs one
        if (miss != 3 && (c.chance(35) || miss == 2 || padded)) s = mask(s, miss == 2, padded);
        String p = g.add(new Softmax(miss == 1 ? 1 : 2), s);
        if (miss == 4) g.add(Unary.of(Unary.Kind.TANH), p);             // the probabilities read twice
        g.add(new MatMul(), p, v);
    }

    /** SAGAN 2-D attention (1×1 convs, views, V·Pᵀ), optionally gated by the input. */
    private void saganAttention() {
        String x = g.operand(t -> t.rank() == 4 && t.dim(2) * t.dim(3) <= 32);
        if (x == null) x = g.input(g.pick(1, 2), g.small(), g.small(), g.small());
        TensorType xt = g.type(x);
        int bs = xt.dim(0), ch = xt.dim(1), hw = xt.dim(2) * xt.dim(3), cq = g.small();
        boolean gate = c.chance(50);
        int cv = gate ? ch : g.small();
        String q = g.add(new Transpose(new int[]{0, 2, 1}), g.add(new Reshape(new int[]{bs, cq, hw}), conv(x, cq, 1, ConvAttrs.POINTWISE, true)));
        String k = g.add(new Reshape(new int[]{bs, cq, hw}), conv(x, cq, 1, ConvAttrs.POINTWISE, true));
        String s = g.add(new MatMul(), q, k);
        if (s != null && c.chance(35)) s = scaling(s, cq);
        String p = g.add(new Softmax(c.chance(15) ? 1 : 2), s);
        String v = g.add(new Reshape(new int[]{bs, cv, hw}), conv(x, cv, 1, ConvAttrs.POINTWISE, true));
        String o = g.add(new MatMul(), v, g.add(new Transpose(new int[]{0, 2, 1}), p));
        o = g.add(new Reshape(new int[]{bs, cv, xt.dim(2), xt.dim(3)}), o);
        if (gate && o != null) g.add(new Binary(MUL), c.chance(50) ? List.of(x, o) : List.of(o, x));
    }

    /** Reshapes and transposes: to the same shape, of each other, identity and inverse permutations. */
    private void reshapeChain() {
        String x = g.operand(t -> true);
        int[] last = null;
        for (int i = 2 + c.below(3); i > 0 && x != null; i--) {
            TensorType t = g.type(x);
            if (c.chance(50)) {
                x = g.add(new Reshape(c.chance(25) ? t.shape().dims() : factorise(c, t.shape().size(), 1 + c.below(4))), x);
                last = null;
            } else {
                int[] perm = last != null && c.chance(50) ? inverse(last) : permutation(c, t.rank());
                x = g.add(new Transpose(perm), x);
                last = perm;
            }
        }
        if (x != null && c.chance(50)) g.add(activation(), x);
    }

    /** The same op on the same operand twice (sometimes two levels deep), both results used. */
    private void duplicates() {
        String x = g.operand(t -> true);
        Op op = switch (c.below(4)) {
            case 0 -> activation();
            case 1 -> new Scale(c.pickFloat(0.5f, -2f));
            case 2 -> new Transpose(permutation(c, g.type(x).rank()));
            default -> Unary.of(Unary.Kind.LEAKY_RELU, 0.1f);
        };
        String a = g.add(op, x), b = g.add(op, x);
        if (c.chance(50)) { a = g.add(Unary.of(Unary.Kind.TANH), a); b = g.add(Unary.of(Unary.Kind.TANH), b); }
        if (c.chance(50)) g.add(new Binary(c.chance(50) ? ADD : MUL), a, b);
    }

    /** Weights computed from constants only (transposed, scaled, reshaped, combined), then used. */
    private void constantOnly() {
        String x = g.operand(t -> t.rank() >= 1 && t.rank() <= 3);
        if (x == null) x = g.input(g.pick(1, 2), g.wide());
        int k = g.type(x).dim(-1), n = g.wide();
        String w = g.add(new Transpose(new int[]{1, 0}), g.constant("wt", Role.WEIGHT, k, k, n));
        if (c.chance(50)) w = g.add(new Scale(c.pickFloat(0.5f, 2f)), w);
        String bias = g.add(new Reshape(new int[]{n}), g.constant("b", Role.WEIGHT, 1, 1, 1, n));
        if (c.chance(50)) bias = g.add(new Binary(c.chance(50) ? ADD : MUL), bias, g.constant("b2", Role.WEIGHT, 1, n));
        String y = g.add(new Linear(), x, w, bias);
        if (y != null && c.chance(50)) g.add(new Binary(ADD), y, g.add(activation(), g.constant("shift", Role.WEIGHT, 1, 1, n)));
    }

    /** Nodes that nothing reads and that are not outputs. */
    private void deadNodes() {
        String x = g.operand(t -> true);
        String y = g.add(c.chance(50) ? activation() : new Scale(3f), x);
        if (y != null && c.chance(50)) y = g.add(new Binary(ADD), y, x);
        if (y != null) g.dead.add(y);
    }

    // ---- pieces ----

    /** Bias add (per channel, or a near-miss that is not), residual add, activation, gate; sometimes through a reshape. */
    private void epilogue(String y) {
        if (y == null) return;
        TensorType t = g.type(y);
        int axis = t.rank() == 4 ? 1 : t.rank() - 1, ch = t.dim(axis);
        boolean addAfterAct = c.chance(15);
        if (c.chance(50)) {
            int[] shape = switch (c.below(5)) {
                case 0 -> t.rank() == 4 ? new int[]{ch, 1, 1} : new int[]{ch};
                case 1 -> new int[]{1};
                case 2 -> t.rank() == 4 ? new int[]{1, ch, 1, 1} : new int[]{1, ch};
                case 3 -> t.rank() == 4 ? new int[]{t.dim(2), t.dim(3)} : new int[]{t.dim(0), 1};    // not per channel
                default -> new int[0];
            };
            String bias = g.constant("bias", Role.WEIGHT, 1, shape);
            y = g.add(new Binary(ADD), c.chance(70) ? List.of(y, bias) : List.of(bias, y));
        }
        if (y != null && c.chance(50) && !addAfterAct) y = g.add(new Binary(ADD), y, g.like(t));
        if (y != null && (c.chance(50) || addAfterAct)) y = c.chance(20) && !addAfterAct ? selfGated(y) : g.add(activation(), y);
        if (y != null && addAfterAct) y = g.add(new Binary(ADD), g.like(t), y);
        if (y != null && c.chance(35)) {
            String gate = g.add(Unary.of(Unary.Kind.SIGMOID), g.like(t));
            if (t.rank() == 4 && c.chance(50)) {
                int[] flat = {t.dim(0), t.dim(1), t.dim(2) * t.dim(3)};
                y = g.add(new Reshape(flat), y);
                gate = g.add(new Reshape(flat), gate);
            }
            y = g.add(new Binary(MUL), c.chance(50) ? Arrays.asList(y, gate) : Arrays.asList(gate, y));
            if (y != null && c.chance(25)) g.add(activation(), y);
        }
    }

    /** y · σ(y), y · hardsigmoid(y) or y · tanh(softplus(y)): an activation written out, as models do (recognise-self-gated). */
    private String selfGated(String y) {
        String gate = switch (c.below(3)) {
            case 0 -> g.add(Unary.of(Unary.Kind.SIGMOID), y);
            case 1 -> g.add(Unary.of(Unary.Kind.HARD_SIGMOID, 1f / 6, 0.5f), y);
            default -> g.add(Unary.of(Unary.Kind.TANH), g.add(Unary.of(Unary.Kind.SOFTPLUS), y));
        };
        return g.add(new Binary(MUL), c.chance(50) ? Arrays.asList(y, gate) : Arrays.asList(gate, y));
    }

    private String scaling(String s, int d) {
        if (s == null) return null;
        float f = (float) (1 / Math.sqrt(d));
        int[] shape = c.pick(new int[0], new int[]{1}, new int[]{1, 1, 1});
        return switch (c.below(4)) {
            case 0 -> g.add(new Scale(f), s);
            case 1 -> g.add(new Binary(DIV), s, g.b.constant(g.name("sqrt_d"), HostTensor.full(Shape.of(shape), (float) Math.sqrt(d))));
            case 2 -> g.add(new Binary(MUL), s, g.b.constant(g.name("inv_sqrt_d"), HostTensor.full(Shape.of(shape), f)));
            default -> g.add(new Binary(MUL), g.b.constant(g.name("inv_sqrt_d"), HostTensor.full(Shape.of(shape), f)), s);
        };
    }

    /**
     * s + mask [B,M,N] (a key-padding mask if padded), or a mask that broadcasts: along leading axes ([M,N],
     * [B,1,N]: fused), or on a near-miss along the keys ([B,M,1], [M,1]: refused, the fused op reads masks by key).
     */
    private String mask(String s, boolean broadcast, boolean padded) {
        if (s == null) return null;
        TensorType t = g.type(s);
        int[] shape = !broadcast ? t.shape().dims() : c.pick(new int[]{t.dim(1), t.dim(2)}, new int[]{t.dim(0), 1, t.dim(2)},
                new int[]{t.dim(0), t.dim(1), 1}, new int[]{t.dim(1), 1});
        String mask = padded && !broadcast ? paddingMask(t.dim(0), t.dim(1), t.dim(2))
                : c.chance(50) ? g.input(shape) : g.constant("mask", Role.WEIGHT, 1, shape);
        return g.add(new Binary(ADD), c.chance(50) ? List.of(s, mask) : List.of(mask, s));
    }

    /** A key-padding mask ({@link DataGen#paddingMask}), as an input or a constant; never an operand of other ops, so only masks read its −∞. */
    String paddingMask(int batch, int rows, int keys) {
        boolean asInput = c.chance(50);
        HostTensor data = DataGen.paddingMask(c, batch, rows, keys);
        if (!asInput) return g.b.constant(g.name("mask"), data);
        String v = g.b.input(g.name("mask"), TensorType.f32(batch, rows, keys));
        g.inputData.put(v, data);
        return v;
    }

    record ConvAttrs(int[] stride, int[] padding, int[] dilation, int kh, int kw) {
        static final ConvAttrs POINTWISE = new ConvAttrs(new int[]{1, 1}, new int[4], new int[]{1, 1}, 1, 1);
    }

    String conv(String x, int out, int groups, ConvAttrs a, boolean bias) {
        if (x == null) return null;
        int cin = g.type(x).dim(1) / groups;
        String w = g.constant("w", Role.WEIGHT, cin * a.kh() * a.kw(), out, cin, a.kh(), a.kw());
        Conv2d op = new Conv2d(a.stride(), a.padding(), a.dilation(), groups);
        return bias ? g.add(op, x, w, g.constant("b", Role.WEIGHT, 1, out)) : g.add(op, x, w);
    }

    /** A kernel up to maxK, stride 1..2, dilation 1..2 and (asymmetric) padding that fit x. */
    ConvAttrs randomConv(TensorType x, int maxK) {
        int[] k = {1 + c.below(maxK), 1 + c.below(maxK)}, stride = {g.pick(1, 2), g.pick(1, 2)}, dil = {g.pick(1, 1, 2), g.pick(1, 1, 2)};
        int[] pad = new int[4];
        for (int a = 0; a < 2; a++) {
            int span = dil[a] * (k[a] - 1);
            pad[a] = c.below(span + 1);
            pad[a + 2] = c.below(span + 1);
            while (x.dim(2 + a) + pad[a] + pad[a + 2] < span + 1) pad[a + 2]++;
        }
        return new ConvAttrs(stride, pad, dil, k[0], k[1]);
    }

    String linear(String x, int n, boolean bias) {
        if (x == null) return null;
        int k = g.type(x).dim(-1);
        String w = g.constant("fc", Role.WEIGHT, k, n, k);
        return bias ? g.add(new Linear(), x, w, g.constant("fcb", Role.WEIGHT, 1, n)) : g.add(new Linear(), x, w);
    }

    /** Any activation ir defines that is safe on a computed value (every one an epilogue can take). */
    private Unary activation() { return new Unary(RandomActs.draw(c::below, false, true)); }

    static boolean broadcasts(int[] a, int[] b, int maxElements) {
        if (Math.max(a.length, b.length) > 4) return false;
        long size = 1;
        for (int i = 1; i <= Math.max(a.length, b.length); i++) {
            int x = i <= a.length ? a[a.length - i] : 1, y = i <= b.length ? b[b.length - i] : 1;
            if (x != y && x != 1 && y != 1) return false;
            size *= Math.max(x, y);
        }
        return size <= maxElements;
    }

    static boolean sameOffAxis(TensorType t, TensorType x, int axis) {
        if (t.rank() != x.rank()) return false;
        for (int i = 0; i < t.rank(); i++) if (i != axis && t.dim(i) != x.dim(i)) return false;
        return true;
    }

    /** Dimensions of the given rank whose product is size (primes dealt out at random). */
    static int[] factorise(Choices c, long size, int rank) {
        int[] d = new int[rank];
        Arrays.fill(d, 1);
        long s = size;
        for (int p = 2; s > 1; ) if (s % p == 0) { d[c.below(rank)] *= p; s /= p; } else p++;
        return d;
    }

    static int[] permutation(Choices c, int rank) {
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) { int j = c.below(i + 1); perm[i] = perm[j]; perm[j] = i; }
        return perm;
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inv[perm[i]] = i;
        return inv;
    }

    private static int smallestFactor(int n) { int p = 2; while (n % p != 0) p++; return p; }
}
