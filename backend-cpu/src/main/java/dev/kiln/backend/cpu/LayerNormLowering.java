package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.LayerNormKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.LayerNorm;

import java.util.ArrayList;
import java.util.List;

/**
 * LayerNorm: the leading axes and the normalised axes are each merged where x and y lay them out
 * contiguously (extent-1 axes dropped), so a dense row is one run of LEN; a row of a haloed
 * tensor stays a set of runs. One {@link LayerNormKernel} task per row.
 */
final class LayerNormLowering {
    private LayerNormLowering() {}

    private record Axis(int extent, int xs, int ys) {}

    static void layerNorm(LoweringContext ctx, Node n, LayerNorm op) {
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        List<Axis> lead = merged(x, y, 0, op.axis()), block = merged(x, y, op.axis(), x.rank());
        if (block.isEmpty()) block.add(new Axis(1, 1, 1));
        if (lead.size() > 3 || block.size() > 3)
            throw new UnsupportedOpException("layer_norm over axes [" + op.axis() + "," + x.rank() + ") of " + java.util.Arrays.toString(x.dims())
                    + " needs " + lead.size() + " row axes and " + block.size() + " runs axes after merging; the cpu backend handles 3 of each");
        while (lead.size() < 3) lead.addFirst(new Axis(1, 0, 0));
        while (block.size() < 3) block.addFirst(new Axis(1, 0, 0));
        Axis inner = block.get(2);
        long len = op.rowLength(x.dims());
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("Y_SLOT", y.slot()).put("Y_OFF", y.offset())
                .put("T1", lead.get(1).extent()).put("T2", lead.get(2).extent())
                .put("B1", block.get(0).extent()).put("B2", block.get(1).extent()).put("LEN", inner.extent())
                .put("XB1", block.get(0).xs()).put("XB2", block.get(1).xs()).put("YB1", block.get(0).ys()).put("YB2", block.get(1).ys())
                .put("XS_IN", inner.xs()).put("YS_IN", inner.ys()).put("VEC", inner.xs() == 1 && inner.ys() == 1)
                .put("EPS", op.eps()).put("INV_N", 1.0 / len).put("AFFINE", n.inputs().size() - 1);
        for (int i = 0; i < 3; i++) p.put("XS" + i, lead.get(i).xs()).put("YS" + i, lead.get(i).ys());
        p.put("G_SLOT", 0).put("G_OFF", 0).put("B_SLOT", 0).put("B_OFF", 0);  // read only with an affine
        if (n.inputs().size() > 1) { Placement g = ctx.of(n.inputs().get(1)); p.put("G_SLOT", g.slot()).put("G_OFF", g.offset()); }
        if (n.inputs().size() > 2) { Placement b = ctx.of(n.inputs().get(2)); p.put("B_SLOT", b.slot()).put("B_OFF", b.offset()); }
        ctx.kernel(n, LayerNormKernel.class, p, lead.get(0).extent() * lead.get(1).extent() * lead.get(2).extent());
    }

    /** Axes [from, to) of x (and the same of y), extent-1 axes dropped and contiguous neighbours merged. */
    private static List<Axis> merged(Placement x, Placement y, int from, int to) {
        List<Axis> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (x.dims()[i] == 1) continue;
            Axis a = new Axis(x.dims()[i], x.strides()[i], y.strides()[i]);
            Axis last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.xs() == a.xs() * a.extent() && last.ys() == a.ys() * a.extent())
                out.set(out.size() - 1, new Axis(last.extent() * a.extent(), a.xs(), a.ys()));
            else out.add(a);
        }
        return out;
    }
}
