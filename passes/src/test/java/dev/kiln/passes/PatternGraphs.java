package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
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
import dev.kiln.ir.testing.RandomActs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.kiln.ir.op.Binary.Kind.ADD;
import static dev.kiln.ir.op.Binary.Kind.DIV;
import static dev.kiln.ir.op.Binary.Kind.MUL;

/**
 * A seeded generator of random well-typed graphs made of the patterns the passes look for,
 * planted on purpose, and near-misses of each: conv → batch norm; depthwise → pointwise
 * chains; attention in sequence and SAGAN layout; conv/linear epilogue chains; reshape and
 * transpose chains; duplicate subexpressions; constant-only subgraphs; dead nodes. A graph is
 * one to four such motifs, later ones often built on earlier results, so values end up with
 * second consumers and chains meet. Sizes are small (1, odd, primes) so the reference
 * interpreter stays fast; weights are standard normal scaled by 1/√fan-in so values stay
 * O(1) through a chain. The same seed always gives the same graph.
 */
final class PatternGraphs {
    private static final int[] DIMS = {1, 2, 3, 5, 7};
    /** Results larger than this are not built on, so chained motifs stay cheap. */
    private static final int MAX_SPATIAL = 64, MAX_CHANNELS = 8;

    private final SplittableRandom r;
    private final GraphBuilder b;
    private final List<String> results = new ArrayList<>();   // values later motifs may build on; sinks become outputs
    private final Set<String> consumed = new HashSet<>(), dead = new HashSet<>();
    private int counter;

    private PatternGraphs(long seed) {
        r = new SplittableRandom(seed);
        b = new GraphBuilder("pattern" + seed);
    }

    static Graph generate(long seed) { return new PatternGraphs(seed).build(); }

    /** Standard-normal data for every input of g, reproducibly from the seed. */
    static Map<String, HostTensor> inputsFor(Graph g, long seed) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        for (Graph.Value v : g.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        return in;
    }

    /**
     * g with random data bound to every constant that has none (parsed text IR): normal, but a
     * batch norm's variance is in [0.5, 1.5) and a one-element constant (a divisor) in [0.5, 2).
     */
    static Graph withRandomWeights(Graph g, long seed) {
        Set<String> variances = new HashSet<>();
        for (Node n : g.nodes()) if (n.op() instanceof BatchNorm2d) variances.add(n.inputs().get(4));
        Map<String, HostTensor> data = new HashMap<>();
        for (var c : g.constants().entrySet()) {
            if (g.weights().containsKey(c.getKey())) continue;
            Shape s = c.getValue().shape();
            data.put(c.getKey(), variances.contains(c.getKey()) ? HostTensor.uniform(s, seed++, 0.5f, 1.5f)
                    : s.size() == 1 ? HostTensor.uniform(s, seed++, 0.5f, 2f) : HostTensor.normal(s, seed++));
        }
        return g.withWeights(data);
    }

    private Graph build() {
        List<Runnable> motifs = List.of(this::convBatchNorm, this::depthwisePointwise, this::sequenceAttention,
                this::saganAttention, this::epilogueChain, this::reshapeChain, this::duplicates, this::constantOnly,
                this::residualLayerNorm, this::convPool);
        for (int i = 1 + r.nextInt(4); i > 0; i--) motifs.get(r.nextInt(motifs.size())).run();
        if (r.nextInt(3) == 0) deadNodes();
        List<String> sinks = results.stream().filter(v -> !consumed.contains(v) && !dead.contains(v)).distinct().toList();
        for (String v : sinks) b.output(v);
        if (sinks.isEmpty()) b.output(results.getLast());
        return b.build();
    }

    // ---- motifs ----

    /** conv (or linear on [B,K]) → batch_norm2d; near-misses: the conv result has a second consumer, BN on a non-conv value. */
    private void convBatchNorm() {
        String y;
        if (r.nextInt(4) == 0) {
            int n = dim();
            String x = input(pick(1, 2), dim());
            y = linear(x, n, r.nextBoolean());
        } else {
            String x = image();
            y = r.nextInt(6) == 0 ? x : conv(x, dim(), 1, randomConv(type(x), 3), r.nextBoolean());
        }
        if (r.nextInt(4) == 0) results.add(add(activation(), "conv.second", y));   // a second consumer of the conv's result
        int c = type(y).dim(1);
        String var = b.constant(b.freshName("var"), HostTensor.uniform(Shape.of(c), r.nextLong(), 0.5f, 1.5f));
        y = add(new BatchNorm2d(pickFloat(1e-5f, 1e-3f)), "bn", y, weight("gamma", 1, c), weight("beta", 1, c), weight("mean", 1, c), var);
        if (r.nextBoolean()) y = add(activation(), "bn.act", y);
        results.add(y);
    }

    /**
     * depthwise conv → optional activation → 1×1 conv → optional bias add, residual add, activation.
     * Near-misses: a second consumer of the depthwise result, a 3×3, strided or grouped pointwise,
     * two activations between (an epilogue holds one), one channel (groups=1 is no depthwise conv).
     */
    private void depthwisePointwise() {
        String x = image();
        TensorType xt = type(x);
        int c = xt.dim(1), miss = r.nextInt(8);
        String y = conv(x, c, c, randomConv(xt, 5), r.nextBoolean());
        if (miss == 0) results.add(add(activation(), "dw.second", y));   // a second consumer of the depthwise result
        if (r.nextBoolean() || miss == 1) y = add(activation(), "dw.act", y);
        if (miss == 1) y = add(activation(), "dw.act2", y);
        int o = dim(), groups = 1;
        if (miss == 4 && c > 1) { groups = smallestFactor(c); o = groups * pick(1, 2); }
        int k = miss == 2 ? 3 : 1, stride = miss == 3 ? 2 : 1, pad = miss == 2 ? 1 : 0;
        var pw = new ConvAttrs(new int[]{stride, stride}, new int[]{pad, pad, pad, pad}, new int[]{1, 1}, k, k);
        epilogue(conv(y, o, groups, pw, r.nextBoolean()));
    }

    /**
     * Q·Kᵀ → scalings (scale op, div or mul by a scalar constant) → optional mask → softmax(-1) → ·V.
     * Near-misses: softmax on axis 1, a second consumer of the scores, a mask that broadcasts,
     * scaling after the mask, V shared across the batch.
     */
    private void sequenceAttention() {
        int batch = pick(1, 2), m = dim(), n = dim(), d = dim(), e = dim(), miss = r.nextInt(12);
        String q, kt, v;
        if (r.nextInt(3) == 0) {                                  // self-attention with projections, as SequenceAttention
            String x = input(batch, m, dim());
            n = m;
            q = linear(x, d, true);
            kt = add(new Transpose(new int[]{0, 2, 1}), "k.t", linear(x, d, true));
            v = linear(x, e, true);
        } else {
            q = r.nextInt(4) == 0 ? add(new Transpose(new int[]{0, 2, 1}), "q.t", input(batch, d, m)) : input(batch, m, d);
            kt = r.nextBoolean() ? add(new Transpose(new int[]{0, 2, 1}), "k.t", input(batch, n, d)) : input(batch, d, n);
            v = miss == 5 && batch > 1 ? input(1, n, e) : input(batch, n, e);
        }
        String s = add(new MatMul(), "scores", q, kt);
        if (miss == 0) results.add(s);
        boolean maskFirst = miss == 3;
        if (maskFirst) s = mask(s, batch, m, n, false);
        for (int i = r.nextInt(3); i > 0; i--) s = scaling(s, d);
        if (!maskFirst && r.nextInt(3) == 0) s = mask(s, batch, m, n, miss == 2);
        String p = add(new Softmax(miss == 1 ? 1 : 2), "softmax", s);
        if (miss == 4) results.add(p);
        results.add(add(new MatMul(), "attend", p, v));
    }

    /** SAGAN 2-D attention as AttentionModule, optionally gated as AdaptiveAttentionModule (through the reshape). */
    private void saganAttention() {
        String x = image();
        TensorType xt = type(x);
        int batch = xt.dim(0), c = xt.dim(1), h = xt.dim(2), w = xt.dim(3), cq = dim(), miss = r.nextInt(8);
        boolean gate = r.nextBoolean();
        int cv = gate ? c : dim();
        ConvAttrs pointwise = ConvAttrs.POINTWISE;
        String q = add(new Reshape(new int[]{batch, cq, h * w}), "q.view", conv(x, cq, 1, pointwise, true));
        q = add(new Transpose(new int[]{0, 2, 1}), "q.permute", q);
        String k = add(new Reshape(new int[]{batch, cq, h * w}), "k.view", conv(x, cq, 1, pointwise, true));
        String s = add(new MatMul(), "scores", q, k);
        if (r.nextInt(3) == 0) s = scaling(s, cq);
        String p = add(new Softmax(miss == 0 ? 1 : 2), "softmax", s);
        if (miss == 1) results.add(p);
        String v = add(new Reshape(new int[]{batch, cv, h * w}), "v.view", conv(x, cv, 1, pointwise, true));
        String o = add(new MatMul(), "attend", v, add(new Transpose(new int[]{0, 2, 1}), "p.permute", p));
        o = add(new Reshape(new int[]{batch, cv, h, w}), "out.view", o);
        if (gate) o = r.nextBoolean() ? add(new Binary(MUL), "gate", x, o) : add(new Binary(MUL), "gate", o, x);
        results.add(o);
    }

    /** conv or linear, then some of: bias add, residual add, activation, gate; near-miss: an add after the activation. */
    private void epilogueChain() {
        String y;
        if (r.nextBoolean()) {
            String x = image();
            y = conv(x, dim(), 1, randomConv(type(x), 3), r.nextBoolean());
        } else {
            String x = r.nextBoolean() ? input(pick(1, 2), dim()) : input(pick(1, 2), dim(), dim());
            y = linear(x, dim(), r.nextBoolean());
        }
        epilogue(y);
    }

    /** Reshapes and transposes: to the same shape, of each other, identity and inverse permutations. */
    private void reshapeChain() {
        String x = r.nextBoolean() && !results.isEmpty() ? results.get(r.nextInt(results.size())) : input(dim(), dim(), dim());
        if (type(x).shape().size() > MAX_SPATIAL * MAX_CHANNELS) x = input(dim(), dim());
        int[] lastPerm = null;
        for (int i = 2 + r.nextInt(3); i > 0; i--) {
            TensorType t = type(x);
            if (r.nextBoolean()) {
                int[] to = r.nextInt(4) == 0 ? t.shape().dims() : factorise(t.shape().size(), 1 + r.nextInt(4));
                x = add(new Reshape(to), "view", x);
                lastPerm = null;
            } else {
                int[] perm = lastPerm != null && r.nextBoolean() ? inverse(lastPerm) : permutation(t.rank());
                x = add(new Transpose(perm), "permute", x);
                lastPerm = perm;
            }
        }
        if (r.nextBoolean()) x = add(activation(), "act", x);
        results.add(x);
    }

    /** The same op on the same operands twice (sometimes two levels deep), both results used. */
    private void duplicates() {
        String x = r.nextBoolean() && !results.isEmpty() ? results.get(r.nextInt(results.size())) : input(dim(), dim());
        if (type(x).shape().size() > MAX_SPATIAL * MAX_CHANNELS) x = input(dim(), dim());
        Op op = switch (r.nextInt(4)) {
            case 0 -> activation();
            case 1 -> new Scale(pickFloat(0.5f, -2f));
            case 2 -> new Transpose(permutation(type(x).rank()));
            default -> Unary.of(Unary.Kind.LEAKY_RELU, 0.1f);
        };
        String a = add(op, "dup", x), c = add(op, "dup", x);
        if (r.nextBoolean()) { a = add(Unary.of(Unary.Kind.TANH), "dup2", a); c = add(Unary.of(Unary.Kind.TANH), "dup2", c); }
        if (r.nextBoolean()) results.add(add(new Binary(r.nextBoolean() ? ADD : MUL), "dup.join", a, c));
        else { results.add(a); results.add(c); }
    }

    /** Weights computed from constants only (transposed, reshaped, scaled, combined), then used on an input. */
    private void constantOnly() {
        int k = dim(), n = dim();
        String x = input(pick(1, 2), k);
        String w = add(new Transpose(new int[]{1, 0}), "w.t", weight("wt", k, k, n));
        if (r.nextBoolean()) w = add(new Scale(pickFloat(0.5f, 2f)), "w.scale", w);
        String bias = add(new Reshape(new int[]{n}), "b.view", weight("b", 1, 1, n));
        if (r.nextBoolean()) bias = add(new Binary(r.nextBoolean() ? ADD : MUL), "b.combine", bias, weight("b2", 1, n));
        String y = add(new Linear(), "fc", x, w, bias);
        if (r.nextBoolean()) y = add(new Binary(ADD), "shift", y, add(activation(), "c.act", weight("shift", 1, n)));
        results.add(y);
    }

    /** Nodes nothing reads. */
    private void deadNodes() {
        for (int i = 1 + r.nextInt(2); i > 0; i--) {
            String x = results.get(r.nextInt(results.size()));
            String y = add(r.nextBoolean() ? activation() : new Scale(3f), "dead", x);
            if (r.nextBoolean()) y = add(new Binary(ADD), "dead", y, x);
            dead.add(y);
            results.add(y);
        }
    }

    // ---- pieces ----

    /** bias add (per channel, or a near-miss constant that is not), residual add, activation, gate; sometimes through a reshape. */
    private void epilogue(String y) {
        TensorType t = type(y);
        int axis = t.rank() == 4 ? 1 : t.rank() - 1, ch = t.dim(axis);
        boolean addAfterAct = r.nextInt(5) == 0;
        if (r.nextBoolean()) {
            int[] shape = switch (r.nextInt(5)) {
                case 0 -> new int[]{1};
                case 1 -> t.rank() == 4 ? new int[]{ch, 1, 1} : new int[]{ch};
                case 2 -> t.rank() == 4 ? new int[]{1, ch, 1, 1} : new int[]{1, ch};
                case 3 -> t.rank() == 4 ? new int[]{t.dim(2), t.dim(3)} : new int[]{t.dim(t.rank() - 2), 1};  // not per channel
                default -> t.rank() == 4 ? new int[]{ch, 1, 1} : new int[]{ch};
            };
            String bias = weight("bias", 1, shape);
            y = r.nextBoolean() ? add(new Binary(ADD), "bias", y, bias) : add(new Binary(ADD), "bias", bias, y);
        }
        if (r.nextBoolean() && !addAfterAct) y = add(new Binary(ADD), "residual", y, like(t));
        if (r.nextBoolean() || addAfterAct) {
            if (!addAfterAct && r.nextInt(5) == 0) {           // the activation written out as x times a gate of x
                String x = y;
                String g = switch (r.nextInt(3)) {
                    case 0 -> add(Unary.of(Unary.Kind.SIGMOID), "self.sigmoid", x);
                    case 1 -> add(Unary.of(Unary.Kind.HARD_SIGMOID, 1f / 6, 0.5f), "self.hardsigmoid", x);
                    default -> add(Unary.of(Unary.Kind.TANH), "self.tanh", add(Unary.of(Unary.Kind.SOFTPLUS), "self.softplus", x));
                };
                y = r.nextBoolean() ? add(new Binary(MUL), "self.gate", x, g) : add(new Binary(MUL), "self.gate", g, x);
            } else y = add(activation(), "act", y);
        }
        if (addAfterAct) y = add(new Binary(ADD), "residual", like(t), y);
        if (r.nextBoolean()) {
            String g = add(Unary.of(Unary.Kind.SIGMOID), "gate.sigmoid", like(t));
            if (t.rank() == 4 && r.nextBoolean()) {    // gate through a reshape, as the adaptive attention
                int[] flat = {t.dim(0), t.dim(1), t.dim(2) * t.dim(3)};
                y = add(new Reshape(flat), "view", y);
                g = add(new Reshape(flat), "gate.view", g);
            }
            y = r.nextBoolean() ? add(new Binary(MUL), "gate", y, g) : add(new Binary(MUL), "gate", g, y);
            if (r.nextInt(4) == 0) y = add(activation(), "after.gate", y);      // near-miss: the epilogue ends with the gate
        }
        results.add(y);
    }

    /** A value of type t: an existing result of that type (a residual from earlier), or a fresh input. */
    private String like(TensorType t) {
        List<String> fits = results.stream().filter(v -> type(v).equals(t)).toList();
        return !fits.isEmpty() && r.nextBoolean() ? fits.get(r.nextInt(fits.size())) : input(t.shape().dims());
    }

    /** s scaled by a scalar: a scale op, a division by a scalar constant (as ONNX exports it), or a multiplication. */
    private String scaling(String s, int d) {
        float f = (float) (1 / Math.sqrt(d));
        int[] shape = pick(0, 1, 2) == 0 ? new int[0] : r.nextBoolean() ? new int[]{1} : new int[]{1, 1, 1};
        return switch (r.nextInt(4)) {
            case 0 -> add(new Scale(f), "scale", s);
            case 1 -> add(new Binary(DIV), "scale", s, b.constant(b.freshName("sqrt_d"), HostTensor.full(Shape.of(shape), (float) Math.sqrt(d))));
            case 2 -> add(new Binary(MUL), "scale", s, b.constant(b.freshName("inv_sqrt_d"), HostTensor.full(Shape.of(shape), f)));
            default -> add(new Binary(MUL), "scale", b.constant(b.freshName("inv_sqrt_d"), HostTensor.full(Shape.of(shape), f)), s);
        };
    }

    /**
     * s + mask, the mask [B,M,N] (an input or a constant), or on a near-miss a shape that broadcasts along the keys
     * (masks broadcast along the leading axes, [M,N] or [B,1,N], fuse).
     */
    private String mask(String s, int batch, int m, int n, boolean broadcast) {
        int[] shape = !broadcast ? new int[]{batch, m, n} : switch (r.nextInt(3)) {
            case 0 -> new int[]{m, 1};
            case 1 -> new int[]{batch, m, 1};
            default -> new int[]{1, m, 1};
        };
        String mask = r.nextBoolean() ? input(shape) : weight("mask", 1, shape);
        return r.nextBoolean() ? add(new Binary(ADD), "mask", s, mask) : add(new Binary(ADD), "mask", mask, s);
    }

    /** Convolution attributes and kernel size, the groups chosen by the caller. */
    private record ConvAttrs(int[] stride, int[] padding, int[] dilation, int kh, int kw) {
        static final ConvAttrs POINTWISE = new ConvAttrs(new int[]{1, 1}, new int[4], new int[]{1, 1}, 1, 1);
    }

    private String conv(String x, int out, int groups, ConvAttrs a, boolean bias) {
        int cin = type(x).dim(1) / groups;
        String w = weight("w", cin * a.kh() * a.kw(), out, cin, a.kh(), a.kw());
        Conv2d op = new Conv2d(a.stride(), a.padding(), a.dilation(), groups);
        return bias ? add(op, "conv", x, w, weight("b", 1, out)) : add(op, "conv", x, w);
    }

    /**
     * LN(x + r) over the last axis, with or without the affine; near-misses: the sum has a second
     * consumer (a pre-norm block's residual stream), the add broadcasts a bias-like [C].
     */
    private void residualLayerNorm() {
        int c = dim(), miss = r.nextInt(6);
        String x = input(pick(1, 2), dim(), c);
        String res = miss == 0 ? weight("bias", 1, c) : r.nextBoolean() ? input(type(x).shape().dims()) : add(activation(), "res", x);
        String sum = add(new dev.kiln.ir.op.Binary(dev.kiln.ir.op.Binary.Kind.ADD), "residual", x, res);
        if (miss == 1) results.add(sum);
        String y = r.nextBoolean() ? add(new dev.kiln.ir.op.LayerNorm(2, 1e-5f), "norm", sum, weight("g", 1, c), weight("b", 1, c))
                : add(new dev.kiln.ir.op.LayerNorm(2, 1e-5f), "norm", sum);
        results.add(y);
    }

    /** conv → optional activation → max or average pool; near-miss: the conv's result has a second consumer. */
    private void convPool() {
        String x = image();
        String y = conv(x, dim(), 1, randomConv(type(x), 3), r.nextBoolean());
        if (r.nextBoolean()) y = add(activation(), "pool.act", y);
        if (r.nextInt(5) == 0) results.add(y);
        TensorType t = type(y);
        int k = 1 + r.nextInt(Math.min(3, Math.min(t.dim(2), t.dim(3)))), s = pick(1, 2), p = r.nextInt(k / 2 + 1);
        int[] kk = {k, k}, ss = {s, s}, pp = {p, p, p, p};
        y = r.nextBoolean() ? add(new dev.kiln.ir.op.MaxPool2d(kk, ss, pp), "pool", y)
                : add(new dev.kiln.ir.op.AvgPool2d(kk, ss, pp, r.nextBoolean()), "pool", y);
        results.add(y);
    }

    /** A random kernel (up to maxK), stride 1..2, dilation 1..2 and padding that fit x. */
    private ConvAttrs randomConv(TensorType x, int maxK) {
        int[] k = {1 + r.nextInt(maxK), 1 + r.nextInt(maxK)}, stride = {pick(1, 2), pick(1, 2)}, dil = {pick(1, 1, 2), pick(1, 1, 2)};
        int[] pad = new int[4];
        for (int a = 0; a < 2; a++) {
            int span = dil[a] * (k[a] - 1);
            pad[a] = r.nextInt(span + 1);
            pad[a + 2] = r.nextInt(span + 1);
            while (x.dim(2 + a) + pad[a] + pad[a + 2] < span + 1) pad[a + 2]++;
        }
        return new ConvAttrs(stride, pad, dil, k[0], k[1]);
    }

    private String linear(String x, int n, boolean bias) {
        int k = type(x).dim(-1);
        String w = weight("fc", k, n, k);
        return bias ? add(new Linear(), "fc", x, w, weight("fcb", 1, n)) : add(new Linear(), "fc", x, w);
    }

    /** An existing rank-4 result small enough to build on, or a fresh [N,C,H,W] input. */
    private String image() {
        List<String> fits = results.stream().filter(v -> type(v).rank() == 4 && type(v).dim(1) <= MAX_CHANNELS
                && type(v).dim(2) * type(v).dim(3) <= MAX_SPATIAL).toList();
        if (!fits.isEmpty() && r.nextBoolean()) return fits.get(r.nextInt(fits.size()));
        return input(pick(1, 2), dim(), dim(), dim());
    }

    /** Any activation ir defines that is safe on a computed value (every one an epilogue can take). */
    private Unary activation() { return new Unary(RandomActs.draw(r::nextInt, false, true)); }

    private String add(Op op, String origin, String... operands) {
        List<String> in = List.of(operands);
        consumed.addAll(in);
        return b.add(op, in, "m" + counter++ + "." + origin);
    }

    private String input(int... dims) { return b.input(b.freshName("x" + counter++), TensorType.f32(dims)); }

    /** A constant of standard-normal data scaled by 1/√fanIn. */
    private String weight(String hint, int fanIn, int... dims) {
        HostTensor t = HostTensor.normal(Shape.of(dims), r.nextLong());
        float s = (float) (1 / Math.sqrt(Math.max(1, fanIn)));
        for (int i = 0; i < t.size(); i++) t.data()[i] *= s;
        return b.constant(b.freshName(hint + counter++), t);
    }

    private int[] factorise(long size, int rank) {
        int[] d = new int[rank];
        java.util.Arrays.fill(d, 1);
        long s = size;
        for (int p = 2; s > 1; ) if (s % p == 0) { d[r.nextInt(rank)] *= p; s /= p; } else p++;
        return d;
    }

    private static int smallestFactor(int n) { int p = 2; while (n % p != 0) p++; return p; }

    private int[] permutation(int rank) {
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) { int j = r.nextInt(i + 1); perm[i] = perm[j]; perm[j] = i; }
        return perm;
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inv[perm[i]] = i;
        return inv;
    }

    private TensorType type(String v) { return b.typeOf(v); }
    private int dim() { return DIMS[r.nextInt(DIMS.length)]; }
    private int pick(int... options) { return options[r.nextInt(options.length)]; }
    private float pickFloat(float... options) { return options[r.nextInt(options.length)]; }
}
