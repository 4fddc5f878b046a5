package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.CumSumKernel;
import dev.kiln.backend.cpu.kernels.GatherKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;

/** The ops that read integers as positions: Gather (runtime indices) and CumSum, each one kernel over contiguous views. */
final class IndexLowering {
    private IndexLowering() {}

    static void gather(LoweringContext ctx, Node n, Gather g) {
        Placement x = contiguous(ctx, n, 0), i = contiguous(ctx, n, 1), y = contiguous(ctx, n, -1);
        int[] s = Gather.split(x.dims(), g.axis());
        int count = (int) i.elements();
        Params p = Params.of().placement("X", x).placement("I", i).placement("Y", y)
                .put("COUNT", count).put("EXTENT", s[1]).put("INNER", s[2]);
        ctx.kernel(n, GatherKernel.class, p, s[0] * count);
    }

    static void cumSum(LoweringContext ctx, Node n, CumSum c) {
        Placement x = contiguous(ctx, n, 0), y = contiguous(ctx, n, -1);
        int[] s = Gather.split(x.dims(), c.axis());
        Params p = Params.of().placement("X", x).placement("Y", y)
                .put("N", s[1]).put("INNER", s[2]).put("EXCLUSIVE", c.exclusive()).put("REVERSE", c.reverse());
        ctx.kernel(n, CumSumKernel.class, p, s[0] * s[2]);
    }

    /** Operand k's placement (−1: the result), which these kernels read as dense row-major memory. */
    private static Placement contiguous(LoweringContext ctx, Node n, int k) {
        Placement p = ctx.of(k < 0 ? n.name() : n.inputs().get(k));
        if (!p.isContiguous())
            throw new UnsupportedOpException(n.describe() + ": the cpu backend gathers and sums only contiguous tensors, but "
                    + (k < 0 ? "the result" : "operand " + k) + " is planned with a halo");
        return p;
    }
}
