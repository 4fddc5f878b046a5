package dev.kiln.backend.cpu;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.*;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.backend.cpu.OpCase.Builder.L;

/**
 * Small graphs whose intermediates the memory plan gives a zero halo: a value v made by one
 * kind of op feeds a padded convolution (so v is written inside a halo) and one other kind of
 * op (so a haloed buffer is also read as an ordinary operand). Also the graph where a haloed
 * buffer reuses the arena bytes of an earlier, non-haloed one.
 */
final class HaloCases {
    private HaloCases() {}

    enum Producer { INPUT, UNARY, SCALE, BINARY, BATCH_NORM, RESHAPE, TRANSPOSE, SLICE, CONCAT, MAX_POOL, AVG_POOL,
        GLOBAL_AVG_POOL, CONV, FUSED_CONV, DW_PW, SOFTMAX, MATMUL, LINEAR }

    enum Consumer { NONE, UNARY, BINARY, SOFTMAX, MAX_POOL, AVG_POOL, GLOBAL_AVG_POOL, RESHAPE, TRANSPOSE, SLICE, CONCAT,
        MATMUL, LINEAR, CONV, DW_PW, FUSED_CONV_EXTRA, BATCH_NORM }

    /** Producer and consumer kinds cycle with the try number. */
    static OpCase haloed(OpCase.Builder c) {
        // 18 producers and 17 consumers: coprime counts, so every pair comes up within 306 tries
        Producer p = Producer.values()[c.index % Producer.values().length];
        Consumer q = Consumer.values()[c.index % Consumer.values().length];
        // the fused dw+pw producer gets tall planes, so its tasks take several rows and store them into the halo
        int[] d = {c.between(1, 2), c.between(1, 5), p == Producer.DW_PW ? c.between(16, 40) : c.dim(6), c.dim(2 * L + 2)};
        String v = produce(c, p, d);
        List<String> outs = new ArrayList<>(List.of(paddedConv(c, v)));
        String z = consume(c, q, v);
        if (z != null) outs.add(z);
        if (c.r.nextInt(6) == 0) outs.add(v);  // then v lives outside the arena and the conv pads a copy
        return c.build(outs.toArray(String[]::new));
    }

    /** x → a = scale(x) → b = scale(a) → v = op(b) → padded conv: v, haloed, is planned over a's bytes. */
    static OpCase staleArena(OpCase.Builder c) {
        int[] d = {c.between(1, 2), c.between(1, 4), c.dim(6), c.dim(2 * L + 2)};
        String a = c.add(new Scale(3f), c.input(d));
        String b = c.add(new Scale(0.5f), a);
        String v = switch (c.index % 5) {
            case 0 -> c.add(Unary.of(Unary.Kind.TANH), b);
            case 1 -> c.add(new Binary(Binary.Kind.ADD), b, c.weight(d[1], 1, 1));
            case 2 -> c.add(Conv2d.of(0, 1), b, c.weight(d[1], d[1], 1, 1));
            case 3 -> c.add(new Transpose(new int[]{0, 1, 2, 3}), b);
            default -> c.add(new Concat(1), b, b);
        };
        return c.build(paddedConv(c, v));
    }

    /** The values that padded convolutions of g read (the ones the memory plan must give a halo). */
    static List<String> paddedConvInputs(Graph g) {
        List<String> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            Ints pad = switch (n.op()) {
                case Conv2d conv -> conv.padding();
                case FusedDwPwConv f -> f.padding();
                default -> Ints.filled(4, 0);
            };
            if (pad.stream().sum() > 0) out.add(n.inputs().getFirst());
        }
        return out;
    }

    /** A conv, fused conv or fused depthwise+pointwise conv with asymmetric padding (at least 1 somewhere). */
    static String paddedConv(OpCase.Builder c, String v) {
        int[] d = c.type(v).shape().dims();
        int[] pad = {c.between(0, 2), c.between(0, 3), c.between(0, 2), c.between(0, 3)};
        pad[c.r.nextInt(4)] = c.between(1, 3);
        int kh = c.between(1, Math.min(3, d[2] + pad[0] + pad[2])), kw = c.between(1, Math.min(5, d[3] + pad[1] + pad[3]));
        int[] one = {1, 1};
        return switch (c.r.nextInt(3)) {
            case 0 -> {
                int g = c.coin() ? 1 : d[1];
                yield c.add(new Conv2d(one, pad, one, g), v, c.weight(c.between(1, 9) * g, d[1] / g, kh, kw));
            }
            case 1 -> {
                int o = c.between(1, 9);
                yield c.add(new Conv2d(one, pad, one, 1, Epilogue.of(Act.RELU)), v, c.weight(o, d[1], kh, kw), c.weight(o));
            }
            default -> {
                int o = c.between(1, 10);
                FusedDwPwConv f = new FusedDwPwConv(one, pad, one, Act.NONE, Epilogue.NONE);
                yield c.add(f, v, c.weight(d[1], 1, kh, kw), c.weight(d[1]), c.weight(o, d[1], 1, 1), c.weight(o));
            }
        };
    }

    /** A value of about dims d made by one op of the given kind (its operands are fresh inputs and constants). */
    static String produce(OpCase.Builder c, Producer p, int[] d) {
        int n = d[0], ch = d[1], h = d[2], w = d[3];
        return switch (p) {
            case INPUT -> c.input(d);
            case UNARY -> c.add(Unary.of(Unary.Kind.LEAKY_RELU, 0.3f), c.input(d));
            case SCALE -> c.add(new Scale(-2f), c.input(d));
            case BINARY -> c.add(new Binary(Binary.Kind.MUL), c.input(d), c.operand(c.coin() ? new int[]{ch, 1, 1} : new int[]{w}));
            case BATCH_NORM -> c.add(new BatchNorm2d(1e-5f), c.input(d), c.weight(ch), c.weight(ch), c.weight(ch), c.uniform(0.5f, 2f, ch));
            case RESHAPE -> c.add(new Reshape(d), c.input(c.coin() ? new int[]{n, ch * h * w} : new int[]{n * ch, h, w}));
            case TRANSPOSE -> c.add(new Transpose(new int[]{0, 1, 3, 2}), c.input(n, ch, w, h));
            case SLICE -> c.add(new Slice(new int[]{1, 2, 3}, new int[]{1, 0, 2}, new int[]{ch + 1, 2 * h, w + 2}, new int[]{1, 2, 1}),
                    c.input(n, ch + 2, 2 * h + 1, w + 4));
            case CONCAT -> c.add(new Concat(c.pick(1, 3)), c.input(d), c.input(d));
            case MAX_POOL -> c.add(new MaxPool2d(new int[]{2, 2}, new int[]{2, 2}, new int[4]), c.input(n, ch, 2 * h, 2 * w + 1));
            case AVG_POOL -> c.add(new AvgPool2d(new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1, 1, 1}, c.coin()), c.input(d));
            case GLOBAL_AVG_POOL -> c.add(Reduce.globalAvgPool(), c.input(d));
            case CONV -> {
                int cin = c.between(1, 4);
                yield c.add(Conv2d.of(1, 1), c.input(n, cin, h, w), c.weight(ch, cin, 3, 3), c.weight(ch));
            }
            case FUSED_CONV -> c.add(new Conv2d(new int[]{1, 1}, new int[]{0, 1, 0, 1}, new int[]{1, 1}, 1, Epilogue.of(Epilogue.ADD).then(Act.SIGMOID)),
                    c.input(n, 2, h, w), c.weight(ch, 2, 1, 3), c.weight(ch), c.input(d));
            case DW_PW -> {
                int cin = c.between(1, 5);
                FusedDwPwConv f = new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1},
                        Act.RELU, Epilogue.of(Act.TANH));
                yield c.add(f, c.input(n, cin, h, w), c.weight(cin, 1, 3, 3), c.weight(cin), c.weight(ch, cin, 1, 1), c.weight(ch));
            }
            case SOFTMAX -> c.add(new Softmax(c.between(1, 3)), c.input(d));
            case MATMUL -> {
                int k = c.dim(L + 1);
                yield c.add(new MatMul(), c.input(n, ch, h, k), c.weight(k, w));
            }
            case LINEAR -> {
                int k = c.dim(L + 1);
                yield c.add(new Linear(), c.input(n, ch, h, k), c.weight(w, k), c.weight(w));
            }
        };
    }

    /** One more reader of the haloed v, or null for none. */
    static String consume(OpCase.Builder c, Consumer q, String v) {
        int[] d = c.type(v).shape().dims();
        int n = d[0], ch = d[1], h = d[2], w = d[3];
        return switch (q) {
            case NONE -> null;
            case UNARY -> c.add(Unary.of(Unary.Kind.GELU), v);
            case BINARY -> c.coin() ? c.add(new Binary(Binary.Kind.SUB), v, c.add(Unary.of(Unary.Kind.EXP), v)) : c.add(new Binary(Binary.Kind.MUL), c.weight(w), v);
            case SOFTMAX -> c.add(new Softmax(c.between(1, 3)), v);
            case MAX_POOL -> c.add(new MaxPool2d(new int[]{1, 2}, new int[]{1, 1}, new int[]{0, 1, 0, 0}), v);
            case AVG_POOL -> c.add(new AvgPool2d(new int[]{2, 1}, new int[]{1, 1}, new int[]{1, 0, 0, 0}, false), v);
            // a haloed operand read by a reduction (global average pooling among them) or a layer norm over its trailing axes
            case GLOBAL_AVG_POOL -> c.r.nextInt(3) == 0 ? c.add(new LayerNorm(c.between(1, 3), 1e-5f), v) : c.add(c.coin() ? Reduce.globalAvgPool() : new Reduce(c.pick(Reduce.Kind.SUM, Reduce.Kind.MAX, Reduce.Kind.MIN, Reduce.Kind.L1, Reduce.Kind.L2, Reduce.Kind.LOG_SUM_EXP), c.coin(), c.pick(new int[]{1}, new int[]{3}, new int[]{1, 2}, new int[]{0, 2, 3})), v);
            case RESHAPE -> c.add(new Reshape(c.coin() ? new int[]{n, ch * h * w} : new int[]{n, ch, h * w}), v);
            case TRANSPOSE -> c.add(new Transpose(new int[]{3, 0, 2, 1}), v);
            case SLICE -> c.add(new Slice(new int[]{3}, new int[]{w / 2}, new int[]{w}, new int[]{1}), v);
            case CONCAT -> c.add(new Concat(c.between(0, 3)), v, c.input(d));
            case MATMUL -> c.add(new MatMul(), v, c.weight(w, c.dim(L + 1)));
            case LINEAR -> c.add(new Linear(), v, c.weight(c.dim(L + 1), w));
            case CONV -> c.add(Conv2d.of(0, 1), v, c.weight(c.between(1, 9), ch, 1, 1));
            case DW_PW -> c.add(new FusedDwPwConv(new int[]{2, 2}, new int[]{2, 0, 0, 2}, new int[]{1, 1}, Act.NONE,
                    Epilogue.NONE), v, c.weight(ch, 1, 1, 2), c.weight(ch), c.weight(3, ch, 1, 1), c.weight(3));
            case FUSED_CONV_EXTRA -> c.add(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1,
                    Epilogue.of(c.coin() ? Epilogue.ADD : Epilogue.MUL)), c.input(n, 2, h, w), c.weight(ch, 2, 3, 3), c.weight(ch), v);
            case BATCH_NORM -> c.add(new BatchNorm2d(1e-3f), v, c.weight(ch), c.weight(ch), c.weight(ch), c.uniform(0.5f, 2f, ch));
        };
    }
}
