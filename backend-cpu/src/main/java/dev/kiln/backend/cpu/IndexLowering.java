package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.CumSumKernel;
import dev.kiln.backend.cpu.kernels.GatherKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;

/** The ops that read integers as positions: Gather (runtime indices) and CumSum, each one kernel over dense row-major views. */
final class IndexLowering {
    private IndexLowering() {}

    static void gather(LoweringContext ctx, Node n, Gather g) {
        Placement x = operand(ctx, n, 0), i = operand(ctx, n, 1), y = ctx.of(n.name()), dense = dense(ctx, y);
        int[] s = Gather.split(x.dims(), g.axis());
        int count = (int) i.elements();
        Params p = Params.of().placement("X", x).placement("I", i).placement("Y", dense)
                .put("COUNT", count).put("EXTENT", s[1]).put("INNER", s[2]);
        ctx.kernel(n, GatherKernel.class, p, s[0] * count);
        copyOut(ctx, n, dense, y);
    }

    static void cumSum(LoweringContext ctx, Node n, CumSum c) {
        Placement x = operand(ctx, n, 0), y = ctx.of(n.name()), dense = dense(ctx, y);
        int[] s = Gather.split(x.dims(), c.axis());
        Params p = Params.of().placement("X", x).placement("Y", dense)
                .put("N", s[1]).put("INNER", s[2]).put("EXCLUSIVE", c.exclusive()).put("REVERSE", c.reverse());
        ctx.kernel(n, CumSumKernel.class, p, s[0] * s[2]);
        copyOut(ctx, n, dense, y);
    }

    /*
     * These kernels index dense row-major memory. A value next to a convolution may be planned with a
     * halo (a text CNN's embedding feeds a conv): such an operand is compacted first, and such a result
     * is written to scratch and copied into its haloed place, rather than refusing the graph.
     */
    private static Placement operand(LoweringContext ctx, Node n, int k) {
        return GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(k)));
    }

    private static Placement dense(LoweringContext ctx, Placement y) {
        return y.isContiguous() ? y : Placement.contiguous(LoweringContext.ARENA, ctx.scratch((int) y.elements()), TensorType.f32(y.dims()));
    }

    private static void copyOut(LoweringContext ctx, Node n, Placement dense, Placement y) {
        if (dense == y) return;
        Placement d4 = dense.as4d(), y4 = y.as4d();
        MovementLowering.copy(ctx, n, " (into its halo)", d4.dims(), d4.slot(), d4.offset(), d4.strides(), y4.slot(), y4.offset(), y4.strides());
    }
}
