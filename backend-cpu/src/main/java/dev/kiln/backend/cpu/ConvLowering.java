package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.ConvKernel;
import dev.kiln.backend.cpu.kernels.DepthwiseKernel;
import dev.kiln.backend.cpu.kernels.DwPwKernel;
import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedDwPwConv;

/** Convolutions: dense 3×3 by Winograd where it pays, dense, grouped and depthwise through the direct kernel or im2col; the fused depthwise+pointwise pair. */
final class ConvLowering {
    private ConvLowering() {}

    static void conv(LoweringContext ctx, Node n, Conv2d c) {
        Placement x = padded(ctx, n, ctx.of(n.inputs().getFirst()), c.padding().toArray());
        Placement w = contiguousOperand(ctx, n, n.inputs().get(1), "weight");
        Placement b = n.inputs().size() > 2 ? contiguousOperand(ctx, n, n.inputs().get(2), "bias")
                : Placement.contiguous(ctx.weight(new float[w.dims()[0]]), 0, TensorType.f32(w.dims()[0]));
        if (c.epilogue().pool() != null) {
            PooledConvLowering.conv(ctx, n, c, x, w, b);
            return;
        }
        Placement e = c.epilogue().hasExtra() ? ctx.of(n.inputs().get(3)) : null;
        emitConv(ctx, n, x, w, b, e, ctx.of(n.name()), c, c.epilogue());
    }

    static void emitConv(LoweringContext ctx, Node n, Placement x, Placement w, Placement b, Placement e, Placement y,
                         Conv2d c, Epilogue epi) {
        if (isPointwise(c, w) && GemmLowering.flatPlanes(x, e)) {
            GemmLowering.pointwiseConv(ctx, n, x, w, b, e, y, epi);
            return;
        }
        if (WinogradLowering.applies(ctx, n, c, w) && (ctx.convMode.equals("winograd") || ctx.convMode.equals("auto") && WinogradLowering.IN_AUTO && WinogradLowering.pays(x, y))) {
            WinogradLowering.conv(ctx, n, x, w, b, e, y, c, epi);
            return;
        }
        if (prefersIm2col(ctx.convMode, c, w, y)) {
            // a residual read inside a halo (it also feeds a padded conv) is compacted first: a copy of
            // O·H·W floats against the GEMM's O·K·H·W multiply-adds, where the direct kernel ran 2-3× slower
            GemmLowering.im2colConv(ctx, n, x, w, b, e == null || GemmLowering.flatPlanes(e) ? e : GemmLowering.contiguous(ctx, n, e), y, c, epi);
            return;
        }
        int groups = c.groups(), og = w.dims()[0] / groups, ob = (og + 7) / 8;
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("X_S0", x.strides()[0]).put("X_S1", x.strides()[1]).put("X_S2", x.strides()[2])
                .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("Y_S0", y.strides()[0]).put("Y_S1", y.strides()[1]).put("Y_S2", y.strides()[2])
                .put("W_SLOT", w.slot()).put("W_OFF", w.offset()).put("B_SLOT", b.slot()).put("B_OFF", b.offset())
                .put("OH", y.dims()[2]).put("OW", y.dims()[3])
                .put("KH", w.dims()[2]).put("KW", w.dims()[3]).put("SH", c.stride().get(0)).put("SW", c.stride().get(1))
                .put("DH", c.dilation().get(0)).put("DW", c.dilation().get(1)).put("PT", c.padding().get(0)).put("PL", c.padding().get(1))
                .epilogue(epi);
        Placement ev = e == null ? y : e;
        p.put("E_SLOT", ev.slot()).put("E_OFF", ev.offset()).put("E_S0", ev.strides()[0]).put("E_S1", ev.strides()[1]).put("E_S2", ev.strides()[2]);
        int oh = y.dims()[2], range = y.dims()[0] * groups * ob * oh;
        Class<? extends Kernel> template = ConvKernel.class;
        if (og == 1 && w.dims()[1] == 1) {
            // depthwise: no output-channel tile to share loads across, so vectorise wider along the row instead
            template = DepthwiseKernel.class;
            p.put("C", groups);
        } else {
            // rows no wider than a vector: a tile covers two rows (see ConvKernel)
            int rows2 = y.dims()[3] <= GemmLowering.NR / 2 && oh > 1 ? 1 : 0, oht = rows2 == 1 ? (oh + 1) / 2 : oh;
            p.put("G", groups).put("CG", w.dims()[1]).put("OG", og).put("OB", ob).put("ROWS2", rows2).put("OHT", oht);
            range = y.dims()[0] * groups * ob * oht;
        }
        ctx.kernel(n, template, p, range);
    }

    /**
     * A dense conv goes through the implicit-im2col GEMM when its rows are narrower than the
     * direct kernel's 2-vector pixel tile (the direct kernel then leaves lanes idle: 24 of 32
     * at width 12 even with two rows per tile; the GEMM tiles the flattened H·W), and when it has
     * many output channels, over which one packed column tile is shared: inside ResNet-18 the
     * direct kernel ran its 64→64 3×3 convs at 56² in 2.9-3.2 ms and the 7×7 stride-2 stem
     * (gathers for 8 FMAs each) in 4.5 ms, against 1.2 ms for a GEMM of the same work; so do
     * strided convs, whose columns the GEMM packs once per tile for all output channels. Few
     * output channels keep the direct kernel (the generator's 32→32 and 32→3 at 32²: 256 µs
     * direct, 729 µs through a materialised im2col). The backend option "conv" forces one way.
     */
    private static boolean prefersIm2col(String mode, Conv2d c, Placement w, Placement y) {
        if (c.groups() != 1 || mode.equals("direct")) return false;
        boolean strided = c.stride().get(0) > 1 || c.stride().get(1) > 1;
        return mode.equals("im2col") || y.dims()[3] < GemmLowering.NR || w.dims()[0] >= 64 || strided;
    }

    private static boolean isPointwise(Conv2d c, Placement w) {
        return c.groups() == 1 && w.dims()[2] == 1 && w.dims()[3] == 1 && c.stride().get(0) == 1 && c.stride().get(1) == 1
                && c.padding().stream().allMatch(q -> q == 0);
    }

    /**
     * The input as the kernel needs it: with a zero halo covering the padding. The memory plan
     * gives every conv input such a halo; only inputs outside the arena (constants, values that
     * are also graph outputs) are copied into a padded scratch buffer here.
     */
    static Placement padded(LoweringContext ctx, Node n, Placement x, int[] padding) {
        if (x.covers(padding)) return x;
        int[] d = x.dims();
        int floats = d[0] * d[1] * (d[2] + padding[0] + padding[2]) * (d[3] + padding[1] + padding[3]);
        Placement p = Placement.haloed(LoweringContext.ARENA, ctx.scratch(floats), TensorType.f32(d), padding);
        ctx.zeroHalo(p, "%" + n.name() + "'s padded input");
        MovementLowering.copy(ctx, n, " (pad input)", d, x.slot(), x.offset(), x.strides(), p.slot(), p.offset(), p.strides());
        return p;
    }

    static Placement contiguousOperand(LoweringContext ctx, Node n, String value, String what) {
        Placement p = ctx.of(value);
        if (!p.isContiguous()) throw new UnsupportedOpException(n.describe() + ": the cpu backend needs a contiguous " + what);
        return p;
    }

    /** One DwPwKernel: depthwise rows into a per-task scratch, consumed at once by the pointwise GEMM. */
    static void dwPw(LoweringContext ctx, Node n, FusedDwPwConv f) {
        dwPwKernel(ctx, n, f, padded(ctx, n, ctx.of(n.inputs().getFirst()), f.padding().toArray()), 1);
    }

    /** The DwPwKernel of a dw+pw part reading x (its halo covering the padding), its weights from operand first on. */
    static void dwPwKernel(LoweringContext ctx, Node n, FusedDwPwConv f, Placement x, int first) {
        Placement y = ctx.of(n.name());
        Params p = dwPwParams(ctx, n, f, x, first).put("EXPAND", 0).put("CIN", 0).put("H", 0).put("W", 0).put("PR", 0)
                .put("EW_SLOT", 0).put("EWP_SLOT", 0).put("EWB_SLOT", 0).put("EXP_ACT", Act.NONE).put("STEPS", 1);
        int images = y.dims()[0], oh = y.dims()[2];
        DwPwSplit split = dwPwSplit(images, x.dims()[1], y.dims()[1], oh, y.dims()[3], taps(ctx, n, first));
        int perImage = (oh + split.rows() - 1) / split.rows();
        p.put("ROWS", split.rows()).put("RT", perImage).put("OCH", split.outChunks());
        ctx.kernel(n, DwPwKernel.class, p, images * perImage * split.outChunks());
    }

    private static int taps(LoweringContext ctx, Node n, int dwOperand) {
        int[] d = ctx.of(n.inputs().get(dwOperand)).dims();
        return d[2] * d[3];
    }

    /**
     * DwPwKernel's parameters for the depthwise and pointwise part, whose input is x (with its
     * halo) and whose weights start at operand first (depthwise weight, bias, pointwise weight,
     * bias, then the extra): the expansion's lowering ({@link ExpandDwPwLowering}) shares them.
     */
    static Params dwPwParams(LoweringContext ctx, Node n, FusedDwPwConv f, Placement x, int first) {
        Placement y = ctx.of(n.name());
        Placement dw = contiguousOperand(ctx, n, n.inputs().get(first), "depthwise weight");
        Placement pw = contiguousOperand(ctx, n, n.inputs().get(first + 2), "pointwise weight");
        Placement e = f.epilogue().hasExtra() ? ctx.of(n.inputs().get(first + 4)) : y;
        int channels = dw.dims()[0];
        return Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("X_S0", x.strides()[0]).put("X_S1", x.strides()[1]).put("X_S2", x.strides()[2])
                .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("Y_S0", y.strides()[0]).put("Y_S1", y.strides()[1]).put("Y_S2", y.strides()[2])
                .put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_S0", e.strides()[0]).put("E_S1", e.strides()[1]).put("E_S2", e.strides()[2])
                .put("DW_SLOT", packed(ctx, n.inputs().get(first), dw)).put("DWB_SLOT", packed(ctx, n.inputs().get(first + 1), ctx.of(n.inputs().get(first + 1))))
                .put("PW_SLOT", packed(ctx, n.inputs().get(first + 2), pw))
                .put("PWP_SLOT", ctx.weight(GemmLowering.packRowBlocks(ctx.constant(n.inputs().get(first + 2)).data(), y.dims()[1], channels)))
                .put("PWB_SLOT", packed(ctx, n.inputs().get(first + 3), ctx.of(n.inputs().get(first + 3))))
                .put("C", channels).put("O", y.dims()[1]).put("OH", y.dims()[2]).put("OW", y.dims()[3])
                .put("KH", dw.dims()[2]).put("KW", dw.dims()[3]).put("SH", f.stride().get(0)).put("SW", f.stride().get(1))
                .put("DH", f.dilation().get(0)).put("DW", f.dilation().get(1)).put("PT", f.padding().get(0)).put("PL", f.padding().get(1))
                .put("MID_ACT", f.midAct())
                .epilogue(f.epilogue());
    }

    /** How the fused dw+pw conv's work splits into tasks: output rows per task, and chunks of output channels. */
    record DwPwSplit(int rows, int outChunks) {}

    /**
     * The split with the least estimated work. The pointwise GEMM tiles a task's ROWS·OW pixels in
     * steps of NR, so one narrow row leaves lanes idle (56 of 64 at width 56, 25 of 32 at 7): more
     * rows per task fill the tiles. Output-channel chunks give the threads their tasks when the
     * rows cannot (a 7×7 image is one task of 2 tiles, where a row per task ran 7 tiles of 7
     * pixels: MobileNetV2's last 960→320 block took 0.79 ms); each chunk recomputes its rows'
     * depthwise, KH·KW multiply-adds per pixel and channel against the pointwise's O/chunks.
     * Fewer than 8 tasks count as idle threads. The scratch ([C][ROWS·OW]) stays within 128 KiB.
     */
    static DwPwSplit dwPwSplit(int images, int channels, int outs, int oh, int ow, int taps) {
        DwPwSplit best = new DwPwSplit(1, 1);
        double bestCost = Double.MAX_VALUE;
        int blocks = (outs + 7) / 8;
        for (int r = 1; r <= oh; r++) {
            if (r > 1 && channels * tiles(r * ow) * GemmLowering.NR > 32 * 1024) break;
            // oh / r full tasks of r rows, then one of the oh % r left
            double pointwise = (double) images * (oh / r * tiles(r * ow) + tiles(oh % r * ow)) * GemmLowering.NR * channels * outs;
            long rowTasks = (long) images * ((oh + r - 1) / r);
            for (int och = 1; och <= blocks; och++) {
                long tasks = rowTasks * och;
                double depthwise = (double) och * images * oh * ow * channels * taps;
                double cost = (pointwise + depthwise) * (tasks >= 8 ? 1 : 1 + (8.0 - tasks) / tasks / 2);
                if (cost < bestCost * 0.999) {
                    bestCost = cost;
                    best = new DwPwSplit(r, och);
                }
                if (tasks >= 8) break;   // more chunks only add depthwise work
            }
        }
        return best;
    }

    private static long tiles(int pixels) { return (pixels + GemmLowering.NR - 1) / GemmLowering.NR; }

    /** A constant's own slot (offset 0) — the fused kernel indexes its weights from 0. */
    static int packed(LoweringContext ctx, String value, Placement p) {
        HostTensor t = ctx.constant(value);
        if (t == null) throw new UnsupportedOpException("the cpu backend needs fused_dw_pw_conv's weights and biases as constants (they are packed at compile time); %" + value + " is computed");
        return p.slot();
    }
}
