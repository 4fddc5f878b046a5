package dev.kiln.test.kit;

import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.Pad;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Resize;
import dev.kiln.test.kit.DataGen.Role;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link GraphGen}'s random ops for the image models' ops (transposed convolution, reductions, layer norm, pad,
 * resize), kept beside it so neither file grows past a screenful of generators. Each returns false when no
 * operand fits, as GraphGen's own do.
 */
final class ImageOpGen {
    private final GraphGen g;
    private final Choices c;

    private final Motifs motifs;

    ImageOpGen(GraphGen g) {
        this.g = g;
        this.c = g.c;
        this.motifs = new Motifs(g);
    }

    /** conv_transpose2d: stride 1-3, cropping, output padding below the stride or dilation, dilation, groups, bias, sometimes an epilogue. */
    boolean convTranspose() {
        String x = g.operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = g.type(x);
        int cin = xt.dim(1), groups = c.chance(30) ? cin : g.divisor(cin), og = c.between(1, 3), kh = c.between(1, 4), kw = c.between(1, 4);
        int[] s = {c.between(1, 3), c.between(1, 3)}, d = {c.between(1, 2), c.between(1, 2)};
        int[] pad = {c.below(kh), c.below(kw), c.below(kh), c.below(kw)};
        int[] op = {c.below(Math.max(s[0], d[0])), c.below(Math.max(s[1], d[1]))};
        boolean bias = c.chance(60);
        ConvTranspose2d t = new ConvTranspose2d(Ints.of(s), Ints.of(pad), Ints.of(op), Ints.of(d), groups, bias ? g.epilogue() : Epilogue.NONE);
        // each output sums about cg·kh·kw/(sh·sw) products
        int fanIn = Math.max(1, cin / groups * kh * kw / (s[0] * s[1]));
        List<String> in = new ArrayList<>(List.of(x, g.constant("w", Role.WEIGHT, fanIn, cin, og, kh, kw)));
        if (bias) in.add(g.constant("b", Role.WEIGHT, 1, og * groups));
        if (t.epilogue().hasExtra()) {
            TensorType out;
            try {
                out = t.plain().inferType(List.of(xt, TensorType.f32(cin, og, kh, kw)));
            } catch (dev.kiln.ir.ShapeException e) {
                return false;
            }
            in.add(g.like(out));
        }
        return g.add(t, in) != null;
    }

    /**
     * An inverted-residual block (fused_expand_dw_pw_conv): expansion to 1-4× the channels (or a
     * wide count), depthwise of any geometry randomConv draws, projection, sometimes an epilogue.
     */
    boolean fusedExpandDwPw() {
        String x = g.operand(t -> t.rank() == 4);
        if (x == null) return false;
        TensorType xt = g.type(x);
        int cin = xt.dim(1), mid = c.chance(70) ? cin * c.between(1, 4) : g.wide(), out = g.wide();
        Motifs.ConvAttrs a = motifs.randomConv(xt, 3);
        FusedExpandDwPwConv op = new FusedExpandDwPwConv(Ints.of(a.stride()), Ints.of(a.padding()), Ints.of(a.dilation()),
                g.epilogueAct(), g.epilogueAct(), g.epilogue());
        List<String> in = new ArrayList<>(List.of(x, g.constant("ew", Role.WEIGHT, cin, mid, cin, 1, 1), g.constant("ewb", Role.WEIGHT, 1, mid),
                g.constant("dw", Role.WEIGHT, a.kh() * a.kw(), mid, 1, a.kh(), a.kw()), g.constant("dwb", Role.WEIGHT, 1, mid),
                g.constant("pw", Role.WEIGHT, mid, out, mid, 1, 1), g.constant("pwb", Role.WEIGHT, 1, out)));
        if (op.epilogue().hasExtra()) {
            TensorType mid4 = op.dwPw().depthwise(mid).inferType(List.of(TensorType.f32(xt.dim(0), mid, xt.dim(2), xt.dim(3)),
                    TensorType.f32(mid, 1, a.kh(), a.kw())));
            in.add(g.like(TensorType.f32(mid4.dim(0), out, mid4.dim(2), mid4.dim(3))));
        }
        return g.add(op, in) != null;
    }

    /**
     * A reduction of a random kind over random axes (global average pooling a third of the time
     * on rank 4). PROD only over a few elements, where an f32 product cannot underflow or
     * overflow where the double reference does not.
     */
    boolean reduce() {
        String x = g.operand(t -> t.rank() >= 1);
        if (x == null) return false;
        TensorType xt = g.type(x);
        if (xt.rank() == 4 && c.chance(30)) return g.add(Reduce.globalAvgPool(), x) != null;
        List<Integer> axes = new ArrayList<>();
        long count = 1;
        for (int i = 0; i < xt.rank(); i++) if (c.chance(50)) { axes.add(i); count *= xt.dim(i); }
        if (axes.isEmpty()) { int a = c.below(xt.rank()); axes.add(a); count = xt.dim(a); }
        Reduce.Kind kind = c.pick(Reduce.Kind.values());
        if (kind == Reduce.Kind.PROD && count > 16) kind = Reduce.Kind.SUM;
        return g.add(new Reduce(kind, dev.kiln.ir.Ints.of(axes.stream().mapToInt(Integer::intValue).toArray()), c.chance(50)), x) != null;
    }

    /**
     * LayerNorm over a random trailing block, without affine, with a scale, or with scale and
     * bias. eps is never 0: a row of equal values (zeros, small integers) then normalises to 0
     * rather than to 0/0; the tolerance's noisy runs see how sensitive a nearly constant row is.
     */
    boolean layerNorm() {
        String x = g.operand(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = g.type(x).shape().dims();
        int axis = c.below(d.length), affine = c.below(3);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, d.length);
        List<String> in = new ArrayList<>(List.of(x));
        if (affine >= 1) in.add(g.constant("ln_g", Role.WEIGHT, 1, trailing));
        if (affine == 2) in.add(g.constant("ln_b", Role.WEIGHT, 1, trailing));
        return g.add(new LayerNorm(axis, c.pickFloat(1e-5f, 1e-3f)), in) != null;
    }

    /** Pad in any mode, random (often asymmetric, often zero) pads per axis; reflect pads stay below the axis' size. */
    boolean pad() {
        String x = g.anyRank(t -> t.rank() >= 1);
        if (x == null) return false;
        int[] d = g.type(x).shape().dims();
        Pad.Mode mode = c.pick(Pad.Mode.values());
        int[] pads = new int[2 * d.length];
        for (int i = 0; i < pads.length; i++) {
            int most = mode == Pad.Mode.REFLECT ? Math.min(3, d[i % d.length] - 1) : 3;
            pads[i] = c.chance(40) ? 0 : c.below(most + 1);
        }
        float value = mode == Pad.Mode.CONSTANT ? c.pickFloat(0f, 1f, -2.5f, 0.125f) : 0f;
        return g.add(new Pad(mode, pads, value), x) != null;
    }

    /** Resize of a rank-3 or rank-4 value in any mode, coordinate transform and rounding, up or down, by size or by a given scale. */
    boolean resize() {
        String x = g.operand(t -> t.rank() == 3 || t.rank() == 4);
        if (x == null) return false;
        int[] d = g.type(x).shape().dims();
        int axes = d.length - 2;
        int[] size = new int[axes];
        float[] scales = new float[2];
        boolean byScale = c.chance(40);
        float scale = c.pickFloat(0.5f, 1.5f, 2f, 3f, 0.75f);
        for (int i = 0; i < axes; i++) {
            int in = d[2 + i];
            size[i] = byScale ? Math.max(1, (int) Math.floor(in * (double) scale)) : c.pickInt(1, Math.max(1, in / 2), in + 1, 2 * in, 3 * in - 1);
            if (byScale && in * (double) scale >= 1) scales[2 - axes + i] = scale;
        }
        Resize op = new Resize(c.pick(Resize.Mode.values()), c.pick(Resize.Coord.values()), c.pick(Resize.Nearest.values()),
                dev.kiln.ir.Ints.of(size), scales[0], scales[1]);
        return g.add(op, x) != null;
    }

    /**
     * ResidualLayerNorm: LN(x + r) over a random trailing block, r another value of x's type or a
     * constant, with or without the affine (as {@link #layerNorm}).
     */
    boolean residualLayerNorm() {
        String x = g.operand(t -> t.rank() >= 1);
        if (x == null) return false;
        dev.kiln.ir.TensorType xt = g.type(x);
        int[] d = xt.shape().dims();
        String r = c.chance(50) ? g.operand(xt::equals) : null;
        if (r == null) r = g.constant("ln_r", Role.INPUT, 1, d);
        int axis = c.below(d.length), affine = c.below(3);
        int[] trailing = java.util.Arrays.copyOfRange(d, axis, d.length);
        List<String> in = new ArrayList<>(List.of(x, r));
        if (affine >= 1) in.add(g.constant("ln_g", Role.WEIGHT, 1, trailing));
        if (affine == 2) in.add(g.constant("ln_b", Role.WEIGHT, 1, trailing));
        return g.add(new dev.kiln.ir.op.ResidualLayerNorm(axis, c.pickFloat(1e-5f, 1e-3f)), in) != null;
    }
}
