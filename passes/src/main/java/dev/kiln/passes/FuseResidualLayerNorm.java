package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;

/**
 * LN(x + r) becomes one ResidualLayerNorm (x, r, then the LayerNorm's scale and bias): a
 * transformer's "add & norm" reads x and r once for both moments and once to write, and the sum
 * is never stored. Runs after fuse-epilogues, so a residual add a linear layer has already taken
 * into its epilogue stays there (it costs the same read of r either way). Refused, with the
 * reason in the fusion report, when the sum has another reader (a pre-norm block's residual
 * stream), is a graph output, or broadcasts.
 */
public final class FuseResidualLayerNorm implements Pass {
    @Override public String name() { return "fuse-residual-layer-norm"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        List<Rewrite.Fusion> fusions = new ArrayList<>();
        for (Node ln : g.nodes()) {
            if (!(ln.op() instanceof LayerNorm op)) continue;
            String sum = ln.inputs().getFirst();
            Node add = g.producer(sum);
            if (add == null || !(add.op() instanceof Binary b) || b.kind() != Binary.Kind.ADD) continue;
            if (g.outputs().contains(sum)) { ctx.refused(ln, GRAPH_OUTPUT, "the residual sum %" + sum + " is a graph output"); continue; }
            if (g.useCount(sum) != 1) { ctx.refused(ln, SECOND_CONSUMER, "the residual sum %" + sum + " has another consumer"); continue; }
            String x = add.inputs().get(0), r = add.inputs().get(1);
            if (!g.typeOf(x).equals(ln.type()) || !g.typeOf(r).equals(ln.type())) {
                ctx.refused(ln, SHAPE_MISMATCH, "the add broadcasts " + g.typeOf(x) + " and " + g.typeOf(r));
                continue;
            }
            List<String> operands = new ArrayList<>(List.of(x, r));
            operands.addAll(ln.inputs().subList(1, ln.inputs().size()));
            fusions.add(new Rewrite.Fusion(List.of(add, ln), rw -> {
                rw.emitAs(ln, new ResidualLayerNorm(op.axis(), op.eps()), operands);
                ctx.fused(ln, "add + layer_norm → residual_layer_norm", add.type().bytes());
            }));
        }
        return Rewrite.fusing(g, fusions);
    }
}
