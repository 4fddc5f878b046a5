package dev.kiln.backend.opencl;

import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Every op family against the reference interpreter over seeded random shapes (1, odd sizes and
 * primes, so tiles rarely divide evenly) and random data, attributes and epilogues. Each
 * property is one graph of independent cases, built once (see {@link RandomCases}).
 */
class ShapeProperties {
    private static final int TRIES = 10;

    @Test
    void convolutionsOfAnyGeometryMatchTheReference() {
        RandomCases.check("conv", 101, TRIES, (r, i) -> {
            boolean depthwise = r.chance(30);
            int groups = depthwise ? 1 : r.chance(30) ? r.between(2, 3) : 1;
            int c = depthwise ? r.size() : groups * r.size(), o = depthwise ? c * r.between(1, 2) : groups * r.size();
            if (depthwise) groups = c;
            int kh = r.between(1, 3), kw = r.between(1, 3), dh = r.between(1, 2);
            int[] stride = {r.between(1, 2), r.between(1, 3)}, dilation = {dh, 1};
            int[] pad = {r.between(0, 2), r.between(0, 1), r.between(0, 2), r.between(0, 1)};
            int n = r.between(1, 2), h = Math.max(r.prime(), dh * (kh - 1) + 1), w = Math.max(r.prime(), kw);
            String x = r.graph.input(n, c, h, w), weight = r.graph.weight(o, c / groups, kh, kw), bias = r.graph.weight(o);
            String y;
            if (r.chance(30)) y = r.graph.op(new Conv2d(stride, pad, dilation, groups), x, weight, bias);
            else {
                Conv2d op = new Conv2d(stride, pad, dilation, groups, r.epilogue());
                TensorType out = op.plain().inferType(List.of(TensorType.f32(n, c, h, w), TensorType.f32(o, c / groups, kh, kw)));
                y = !op.epilogue().hasExtra() ? r.graph.op(op, x, weight, bias)
                        : r.graph.op(op, x, weight, bias, r.graph.input(out.shape().dims()));
            }
            // a padded depthwise conv reading it makes y a haloed intermediate
            return r.chance(50) ? r.graph.op(Conv2d.of(1, o), y, r.graph.weight(o, 1, 3, 3)) : y;
        });
    }

    @Test
    void fusedDepthwisePointwiseOfAnyGeometryMatchesTheReference() {
        RandomCases.check("dwpw", 202, TRIES, (r, i) -> {
            int c = r.size(), o = r.prime(), k = r.pick(new Integer[]{1, 3, 3, 5}), n = r.between(1, 2);
            int[] stride = {r.between(1, 2), r.between(1, 2)}, pad = {r.between(0, 2), r.between(0, 2), r.between(0, 2), r.between(0, 2)};
            int h = Math.max(r.prime(), k), w = Math.max(r.prime(), k);
            Act mid = r.activation();
            FusedDwPwConv op = new FusedDwPwConv(stride, pad, new int[]{1, 1}, mid, r.epilogue());
            String x = r.graph.input(n, c, h, w);
            String dw = r.graph.weight(c, 1, k, k), dwb = r.graph.weight(c), pw = r.graph.weight(o, c, 1, 1), pwb = r.graph.weight(o);
            if (!op.epilogue().hasExtra()) return r.graph.op(op, x, dw, dwb, pw, pwb);
            TensorType out = new FusedDwPwConv(stride, pad, new int[]{1, 1}, mid, Epilogue.NONE).inferType(List.of(
                    TensorType.f32(n, c, h, w), TensorType.f32(c, 1, k, k), TensorType.f32(c), TensorType.f32(o, c, 1, 1), TensorType.f32(o)));
            return r.graph.op(op, x, dw, dwb, pw, pwb, r.graph.input(out.shape().dims()));
        });
    }

    @Test
    void linearAndMatMulOfAnyShapeMatchTheReference() {
        RandomCases.check("matrix", 303, TRIES, (r, i) -> {
            int k = r.prime(), n = r.prime();
            if (r.chance(40)) {
                int m = r.prime();
                int[] a = r.chance(50) ? new int[]{r.size(), 1, m, k} : new int[]{m, k};
                int[] b = r.chance(50) ? new int[]{r.size(), k, n} : new int[]{k, n};
                if (r.chance(50)) return r.graph.op(new MatMul(), r.graph.input(a), r.graph.input(b));
                MatMul op = new MatMul(r.epilogue());
                String ia = r.graph.input(a), ib = r.graph.input(b);
                if (!op.epilogue().hasExtra()) return r.graph.op(op, ia, ib);
                TensorType out = new MatMul().inferType(List.of(TensorType.f32(a), TensorType.f32(b)));
                return r.graph.op(op, ia, ib, r.graph.input(out.shape().dims()));
            }
            int[] x = r.chance(50) ? new int[]{r.size(), r.size(), k} : new int[]{r.size(), k};
            if (r.chance(30)) return r.graph.op(new Linear(), r.graph.input(x), r.graph.weight(n, k));
            Linear op = new Linear(r.epilogue());
            String in = r.graph.input(x), w = r.graph.weight(n, k), b = r.graph.weight(n);
            if (!op.epilogue().hasExtra()) return r.graph.op(op, in, w, b);
            int[] out = x.clone();
            out[out.length - 1] = n;
            return r.graph.op(op, in, w, b, r.graph.input(out));
        });
    }

    @Test
    void attentionOfAnyShapeAndLayoutMatchesTheReference() {
        RandomCases.check("attention", 404, TRIES, (r, i) -> {
            int b = r.between(1, 2), m = r.prime(), n = r.prime() + r.between(0, 40), d = r.size(), e = r.prime();
            boolean qc = r.chance(50), kc = r.chance(50), vc = r.chance(50), oc = r.chance(50), mask = r.chance(30);
            FusedAttention op = new FusedAttention(1f / (float) Math.sqrt(d), mask, qc, kc, vc, oc, r.chance(30) ? Epilogue.NONE : r.epilogue());
            String q = r.graph.input(qc ? new int[]{b, d, m} : new int[]{b, m, d});
            String k = r.graph.input(kc ? new int[]{b, d, n} : new int[]{b, n, d});
            String v = r.graph.input(vc ? new int[]{b, e, n} : new int[]{b, n, e});
            List<String> operands = new java.util.ArrayList<>(List.of(q, k, v));
            if (mask) operands.add(r.graph.input(b, m, n));
            if (op.epilogue().hasExtra()) operands.add(r.graph.input(oc ? new int[]{b, e, m} : new int[]{b, m, e}));
            return r.graph.op(op, operands.toArray(String[]::new));
        });
    }

    @Test
    void elementwisePoolingAndSoftmaxOfAnyShapeMatchTheReference() {
        RandomCases.check("elementwise", 505, TRIES, (r, i) -> {
            int n = r.between(1, 2), c = r.size(), h = r.prime(), w = r.prime();
            String x = r.graph.input(n, c, h, w);
            return switch (r.between(0, 6)) {
                case 0 -> r.graph.op(new Binary(r.pick(Binary.Kind.values())), x, r.graph.input(1, c, 1, w));
                case 1 -> r.graph.op(Unary.of(r.pick(new Unary.Kind[]{Unary.Kind.EXP, Unary.Kind.TANH, Unary.Kind.GELU})), x);
                case 2 -> r.graph.op(new Softmax(r.between(0, 3)), x);
                case 3 -> {
                    int k = Math.min(r.between(1, 3), Math.min(h, w)), p = Math.min(r.between(0, 1), k - 1);
                    yield r.graph.op(new MaxPool2d(new int[]{k, k}, new int[]{r.between(1, 2), r.between(1, 2)}, new int[]{p, p, p, p}), x);
                }
                case 4 -> {
                    int k = Math.min(r.between(1, 3), Math.min(h, w)), p = Math.min(r.between(0, 1), k - 1);
                    yield r.graph.op(new AvgPool2d(new int[]{k, k}, new int[]{r.between(1, 2), 1}, new int[]{p, 0, p, 0}, r.chance(50)), x);
                }
                case 5 -> r.graph.op(new Concat(r.between(0, 3)), x, x);
                default -> r.chance(50) ? r.graph.op(Reduce.globalAvgPool(), x) : r.graph.op(new Transpose(new int[]{2, 0, 3, 1}), x);
            };
        });
    }

    @Test
    void lstmsOfAnySizeMatchTheReference() { recurrent("lstm", 606, false); }

    @Test
    void grusOfAnySizeMatchTheReference() { recurrent("gru", 607, true); }

    /** One or two layers, or one bidirectional layer. */
    private static void recurrent(String name, int seed, boolean gru) {
        RandomCases.check(name, seed, 4, (r, i) -> {
            int hidden = r.prime(), layers = r.between(1, 2), batch = r.between(1, 3), steps = r.size(), features = r.size();
            boolean batchFirst = r.chance(50), initial = r.chance(50), bidir = layers == 1 && r.chance(50);
            int dirs = bidir ? 2 : 1, gates = gru ? 3 : 4;
            List<String> operands = new java.util.ArrayList<>();
            operands.add(r.graph.input(batchFirst ? new int[]{batch, steps, features} : new int[]{steps, batch, features}));
            if (initial) for (int s = 0; s < (gru ? 1 : 2); s++) operands.add(r.graph.input(layers * dirs, batch, hidden));
            for (int l = 0; l < layers; l++)
                for (int d = 0; d < dirs; d++) {
                    operands.add(r.graph.weight(gates * hidden, l == 0 ? features : hidden));
                    operands.add(r.graph.weight(gates * hidden, hidden));
                    operands.add(r.graph.weight(gates * hidden));
                    operands.add(r.graph.weight(gates * hidden));
                }
            return r.graph.op(gru ? new Gru(hidden, layers, batchFirst, initial, bidir) : new Lstm(hidden, layers, batchFirst, initial, bidir),
                    operands.toArray(String[]::new));
        });
    }
}
