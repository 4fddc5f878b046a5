package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.PoolKernel;
import dev.kiln.backend.cpu.kernels.SoftmaxKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Softmax;

/** Softmax and pooling. */
final class ReductionLowering {
    private ReductionLowering() {}

    static void softmax(LoweringContext ctx, Node n, Softmax s) {
        Placement x = ctx.of(n.inputs().getFirst()).as4d(), y = ctx.of(n.name()).as4d();
        int axis = s.axis() + (4 - n.type().rank());
        int[] other = new int[3];
        for (int i = 0, k = 0; i < 4; i++) if (i != axis) other[k++] = i;
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("Y_SLOT", y.slot()).put("Y_OFF", y.offset())
                .put("XA", x.strides()[axis]).put("YA", y.strides()[axis]).put("LEN", y.dims()[axis])
                .put("O1", y.dims()[other[1]]).put("O2", y.dims()[other[2]]);
        for (int i = 0; i < 3; i++) p.put("XS" + i, x.strides()[other[i]]).put("YS" + i, y.strides()[other[i]]);
        ctx.kernel(n, SoftmaxKernel.class, p, y.dims()[other[0]] * y.dims()[other[1]] * y.dims()[other[2]]);
    }

    static void pool(LoweringContext ctx, Node n, int[] k, int[] s, int[] pad, boolean max, boolean countPad) {
        pool(ctx, n, "", ctx.of(n.inputs().getFirst()), ctx.of(n.name()), k, s, pad, max, countPad);
    }

    /** The pool of x into y as a step of node n (named with what, e.g. " (pool)" after a conv writing x into n's scratch). */
    static void pool(LoweringContext ctx, Node n, String what, Placement x, Placement y, int[] k, int[] s, int[] pad, boolean max, boolean countPad) {
        Params p = Params.of().placement("X", x).placement("Y", y)
                .put("C", x.dims()[1]).put("H", x.dims()[2]).put("W", x.dims()[3]).put("OH", y.dims()[2]).put("OW", y.dims()[3])
                .put("KH", k[0]).put("KW", k[1]).put("SH", s[0]).put("SW", s[1])
                .put("PT", pad[0]).put("PL", pad[1]).put("PB", pad[2]).put("PR", pad[3]).put("MAX", max ? 1 : 0).put("COUNT_PAD", countPad ? 1 : 0);
        // whole planes per task when there are enough of them for the threads' grains, else rows
        int planes = y.dims()[0] * y.dims()[1], oh = y.dims()[2];
        int rows = planes >= 32 ? oh : Math.max(1, (int) ((long) oh * planes / 32)), perPlane = (oh + rows - 1) / rows;
        p.put("ROWS", rows).put("RT", perPlane);
        if (what.isEmpty()) ctx.kernel(n, PoolKernel.class, p, planes * perPlane);
        else ctx.addKernel(n.describe() + what, PoolKernel.class, p, planes * perPlane);
    }
}
