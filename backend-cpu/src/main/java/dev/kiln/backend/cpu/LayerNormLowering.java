package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.LayerNormKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;

import java.util.ArrayList;
import java.util.List;

/**
 * LayerNorm and ResidualLayerNorm: the leading axes and the normalised axes are each merged where
 * x, the residual and y lay them out contiguously (extent-1 axes dropped), so a dense row is one
 * run of LEN; a row of a haloed tensor stays a set of runs. One {@link LayerNormKernel} task per row.
 */
final class LayerNormLowering {
    private LayerNormLowering() {}

    private record Axis(int extent, int xs, int rs, int ys) {}

    static void layerNorm(LoweringContext ctx, Node n, LayerNorm op) { lower(ctx, n, op.axis(), op.eps(), false, op.rowLength(ctx.of(n.name()).dims())); }

    static void residualLayerNorm(LoweringContext ctx, Node n, ResidualLayerNorm op) {
        lower(ctx, n, op.axis(), op.eps(), true, op.norm().rowLength(ctx.of(n.name()).dims()));
    }

    private static void lower(LoweringContext ctx, Node n, int axis, float eps, boolean residual, long len) {
        Placement x = ctx.of(n.inputs().getFirst()), r = residual ? ctx.of(n.inputs().get(1)) : x, y = ctx.of(n.name());
        List<Axis> lead = merged(x, r, y, 0, axis), block = merged(x, r, y, axis, x.rank());
        if (block.isEmpty()) block.add(new Axis(1, 1, 1, 1));
        if (lead.size() > 3 || block.size() > 3)
            throw new UnsupportedOpException(n.op().mnemonic() + " over axes [" + axis + "," + x.rank() + ") of " + java.util.Arrays.toString(x.dims())
                    + " needs " + lead.size() + " row axes and " + block.size() + " runs axes after merging; the cpu backend handles 3 of each");
        while (lead.size() < 3) lead.addFirst(new Axis(1, 0, 0, 0));
        while (block.size() < 3) block.addFirst(new Axis(1, 0, 0, 0));
        Axis inner = block.get(2);
        int affine = n.inputs().size() - 1 - (residual ? 1 : 0);
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("Y_SLOT", y.slot()).put("Y_OFF", y.offset())
                .put("R_SLOT", r.slot()).put("R_OFF", r.offset()).put("RES", residual)
                .put("T1", lead.get(1).extent()).put("T2", lead.get(2).extent())
                .put("B1", block.get(0).extent()).put("B2", block.get(1).extent()).put("LEN", inner.extent())
                .put("XB1", block.get(0).xs()).put("XB2", block.get(1).xs()).put("YB1", block.get(0).ys()).put("YB2", block.get(1).ys())
                .put("RB1", block.get(0).rs()).put("RB2", block.get(1).rs())
                .put("XS_IN", inner.xs()).put("YS_IN", inner.ys()).put("RS_IN", inner.rs())
                .put("VEC", inner.xs() == 1 && inner.ys() == 1 && inner.rs() == 1)
                .put("EPS", eps).put("INV_N", 1.0 / len).put("AFFINE", affine);
        for (int i = 0; i < 3; i++) p.put("XS" + i, lead.get(i).xs()).put("YS" + i, lead.get(i).ys()).put("RS" + i, lead.get(i).rs());
        p.put("G_SLOT", 0).put("G_OFF", 0).put("B_SLOT", 0).put("B_OFF", 0);  // read only with an affine
        int first = residual ? 2 : 1;
        if (affine > 0) { Placement g = ctx.of(n.inputs().get(first)); p.put("G_SLOT", g.slot()).put("G_OFF", g.offset()); }
        if (affine > 1) { Placement b = ctx.of(n.inputs().get(first + 1)); p.put("B_SLOT", b.slot()).put("B_OFF", b.offset()); }
        ctx.kernel(n, LayerNormKernel.class, p, lead.get(0).extent() * lead.get(1).extent() * lead.get(2).extent());
    }

    /** Axes [from, to) of x (and the same of r and y), extent-1 axes dropped and neighbours contiguous in all three merged. */
    private static List<Axis> merged(Placement x, Placement r, Placement y, int from, int to) {
        List<Axis> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (x.dims()[i] == 1) continue;
            Axis a = new Axis(x.dims()[i], x.strides()[i], r.strides()[i], y.strides()[i]);
            Axis last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.xs() == a.xs() * a.extent() && last.ys() == a.ys() * a.extent() && last.rs() == a.rs() * a.extent())
                out.set(out.size() - 1, new Axis(last.extent() * a.extent(), a.xs(), a.rs(), a.ys()));
            else out.add(a);
        }
        return out;
    }
}
