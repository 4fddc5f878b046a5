package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.PadKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Pad;

/** Pad of any rank up to 6: one {@link PadKernel}, its operand and result views padded to 6 axes with leading extents of 1. */
final class PadLowering {
    private PadLowering() {}

    static final int RANK = 6;

    static void pad(LoweringContext ctx, Node n, Pad pad) {
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        int r = x.rank(), k = RANK - r;
        if (r > RANK) throw new UnsupportedOpException("pad of rank " + r + "; the cpu backend pads up to rank " + RANK);
        int[] d = new int[RANK], nx = new int[RANK], b = new int[RANK], xs = new int[RANK], ys = new int[RANK];
        java.util.Arrays.fill(d, 1);
        java.util.Arrays.fill(nx, 1);
        for (int a = 0; a < r; a++) {
            d[k + a] = y.dims()[a];
            nx[k + a] = x.dims()[a];
            b[k + a] = pad.begin(a);
            xs[k + a] = x.strides()[a];
            ys[k + a] = y.strides()[a];
        }
        int mode = switch (pad.mode()) {
            case CONSTANT -> PadKernel.CONSTANT;
            case REFLECT -> PadKernel.REFLECT;
            case EDGE -> PadKernel.EDGE;
        };
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("Y_SLOT", y.slot()).put("Y_OFF", y.offset())
                .put("MODE", mode).put("VALUE", pad.value());
        for (int a = 0; a < RANK; a++) {
            p.put("N" + a, nx[a]).put("B" + a, b[a]);
            if (a > 0) p.put("D" + a, d[a]);
            if (a < RANK - 1) p.put("X_S" + a, xs[a]).put("Y_S" + a, ys[a]);
        }
        long rows = 1;
        for (int a = 0; a < RANK - 1; a++) rows *= d[a];
        ctx.kernel(n, PadKernel.class, p, (int) rows);
    }
}
