package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.DwPwKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedExpandDwPwConv;

/**
 * The inverted-residual block (FusedExpandDwPwConv). Where the expansion is cheap per expanded
 * element (few input channels) and the image tall enough for bands of rows, one DwPwKernel
 * streams it: the expanded rows live in a per-thread ring and are never stored. Otherwise the
 * expansion runs as a 1×1 conv into a haloed scratch and the dw+pw kernel reads it, as if the
 * block had not been fused (a 7×7 image gives a band too few rows to amortise the rows its
 * taps share with the next band).
 */
final class ExpandDwPwLowering {
    private ExpandDwPwLowering() {}

    /** "stream", "compose" or "auto" (the default): which way the lowering goes, for measuring one against the other. */
    static final String MODE = System.getProperty("kiln.cpu.expand", "auto");

    static void lower(LoweringContext ctx, Node n, FusedExpandDwPwConv f) {
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        int[] ew = ctx.of(n.inputs().get(1)).dims(), dw = ctx.of(n.inputs().get(3)).dims();
        int cin = ew[1], mid = ew[0], h = x.dims()[2], w = x.dims()[3];
        boolean stream = switch (MODE) {
            case "stream" -> true;
            case "compose" -> false;
            default -> streams(cin, y.dims()[2]);
        };
        if (!stream) {
            compose(ctx, n, f, x);
            return;
        }
        Placement ewp = ConvLowering.contiguousOperand(ctx, n, n.inputs().get(1), "expansion weight");
        Split s = split(y.dims()[0], cin, mid, y.dims()[1], h, w, y.dims()[2], y.dims()[3], f, dw[2], dw[3]);
        int[] pad = f.padding().toArray();
        Params p = ConvLowering.dwPwParams(ctx, n, f.dwPw(), x, 3)
                .put("EXPAND", 1).put("CIN", cin).put("H", h).put("W", w).put("PR", pad[3])
                .put("EW_SLOT", ConvLowering.packed(ctx, n.inputs().get(1), ewp))
                .put("EWP_SLOT", ctx.weight(GemmLowering.packRowBlocks(ctx.constant(n.inputs().get(1)).data(), mid, cin)))
                .put("EWB_SLOT", ConvLowering.packed(ctx, n.inputs().get(2), ctx.of(n.inputs().get(2))))
                .put("EXP_ACT", f.expandAct()).put("ROWS", s.rows()).put("STEPS", s.steps()).put("RT", s.bands()).put("OCH", 1);
        ctx.kernel(n, DwPwKernel.class, p, y.dims()[0] * s.bands());
    }

    /**
     * Streaming pays where the stored expansion is what costs: few input channels, so each
     * expanded element is little work next to writing and reading it back (MobileNetV2's 16→96 and
     * 24→144 blocks at 112² and 56²), on images tall enough for bands of several rows.
     */
    static boolean streams(int inChannels, int outRows) { return inChannels <= 48 && outRows >= 14; }

    /** The expansion as a 1×1 conv into a scratch with the depthwise's halo, then the dw+pw kernel on it. */
    private static void compose(LoweringContext ctx, Node n, FusedExpandDwPwConv f, Placement x) {
        int[] d = x.dims(), pad = f.padding().toArray();
        int mid = ctx.of(n.inputs().get(1)).dims()[0];
        TensorType t = TensorType.f32(d[0], mid, d[2], d[3]);
        int floats = d[0] * mid * (d[2] + pad[0] + pad[2]) * (d[3] + pad[1] + pad[3]);
        Placement e = Placement.haloed(LoweringContext.ARENA, ctx.scratch(floats), t, pad);
        if (e.hasHalo()) ctx.zeroHalo(e, "%" + n.name() + "'s expanded input");
        Placement ew = ConvLowering.contiguousOperand(ctx, n, n.inputs().get(1), "expansion weight");
        Placement eb = ConvLowering.contiguousOperand(ctx, n, n.inputs().get(2), "expansion bias");
        ConvLowering.emitConv(ctx, n, x, ew, eb, null, e, FusedDwPwConv.POINTWISE, Epilogue.of(f.expandAct()));
        ConvLowering.dwPwKernel(ctx, n, f.dwPw(), e, 3);
    }

    /** Output rows per step, steps per task (a band), and bands per image. */
    record Split(int rows, int steps, int bands) {}

    /**
     * The split with the least estimated work: ROWS fills the pointwise's NR-pixel tiles (as for
     * dw+pw alone), and bands of several steps share the input rows between a step's taps and the
     * next step's, which a new band has to expand again; fewer than 8 bands leave threads idle.
     * The ring and the depthwise scratch stay within 384 KiB.
     */
    static Split split(int images, int cin, int mid, int outs, int h, int w, int oh, int ow, FusedExpandDwPwConv f, int kh, int kw) {
        int sh = f.stride().get(0), dh = f.dilation().get(0), wp = f.padding().get(1) + w + f.padding().get(3);
        long nr = GemmLowering.NR;
        Split best = new Split(1, oh, 1);
        double bestCost = Double.MAX_VALUE;
        for (int r = 1; r <= oh; r++) {
            long ring = (long) mid * ((r - 1) * sh + (kh - 1) * dh + 1) * wp, scratch = mid * ((r * ow + nr - 1) / nr * nr);
            if (r > 1 && ring + scratch > 96 * 1024) break;
            double pointwise = (double) images * (oh / r * tiles(r * ow) + tiles(oh % r * ow)) * nr * mid * outs;
            int stepsPerImage = (oh + r - 1) / r;
            for (int bands = 1; bands <= stepsPerImage; bands++) {
                int steps = (stepsPerImage + bands - 1) / bands, used = (stepsPerImage + steps - 1) / steps;
                if (used != bands) continue;
                // each band expands the input rows its taps read, its first step's halo rows included
                long bandRows = Math.min(h, ((long) steps * r - 1) * sh + (kh - 1) * dh + 1);
                double expand = (double) images * bands * bandRows * tiles(w) * nr * mid * cin;
                long tasks = (long) images * bands;
                double cost = (pointwise + expand) * (tasks >= 8 ? 1 : 1 + (8.0 - tasks) / tasks / 2);
                if (cost < bestCost * 0.999) {
                    bestCost = cost;
                    best = new Split(r, steps, bands);
                }
                if (tasks >= 8) break;
            }
        }
        return best;
    }

    private static long tiles(long pixels) { return (pixels + GemmLowering.NR - 1) / GemmLowering.NR; }
}
