package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.EpilogueAnchor;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_CONSTANT;
import static dev.kiln.passes.FusionReport.Kind.NOT_THE_PATTERN;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.PRECISION;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;

/**
 * anchor → batch_norm becomes the anchor with scaled weights and a shifted bias:
 * s = γ/√(var+ε); w' = w·s (per output channel); b' = (b − mean)·s + β. The anchor is any
 * {@link EpilogueAnchor} with a bias operand whose bias runs along the channel axis (conv2d,
 * linear of rank 2, the fused dw+pw conv's pointwise half) and an empty epilogue (a batch norm
 * after an activation does not commute with it); the weight it scales is the operand before the
 * bias, each of whose elements feeds the output channel {@link EpilogueAnchor#weightOutputChannel} names. Fires only when the producer's result has no
 * other use and all parameters are constants with data.
 */
public final class FoldBatchNorm implements Pass {
    @Override public String name() { return "fold-batch-norm"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        return Rewrite.eachNode(g, (r, n) -> n.op() instanceof BatchNorm2d bn && fold(g, ctx, r, n, bn));
    }

    /** Emits the folded producer in place of batch norm n, or reports why not and returns false. */
    private static boolean fold(Graph g, PassContext ctx, Rewrite r, Node n, BatchNorm2d bn) {
        Node p = g.producer(n.inputs().getFirst());
        Refusal refusal = refusal(g, n, p);
        if (refusal != null) {
            ctx.refused(n, refusal);
            return false;
        }
        float[] gamma = g.weight(n.inputs().get(1)).data(), beta = g.weight(n.inputs().get(2)).data();
        float[] mean = g.weight(n.inputs().get(3)).data(), var = g.weight(n.inputs().get(4)).data();
        EpilogueAnchor anchor = (EpilogueAnchor) p.op();
        int bi = anchor.biasOperand(), wi = bi - 1;
        HostTensor w = g.weight(p.inputs().get(wi));
        int out = p.type().dim(1);
        double[] scale = new double[out];
        float[] nw = new float[w.size()], nb = new float[out];
        for (int o = 0; o < out; o++) {
            scale[o] = gamma[o] / Math.sqrt((double) var[o] + bn.eps());
            double b = p.inputs().size() > bi ? g.weight(p.inputs().get(bi)).data()[o] : 0;
            nb[o] = (float) ((b - mean[o]) * scale[o] + beta[o]);
        }
        // the anchor says which output channel each weight element feeds (axis 0 of a conv's weight, axis 1 of a transposed conv's)
        for (int i = 0; i < nw.length && refusal == null; i++) {
            int o = anchor.weightOutputChannel(w.shape(), i);
            nw[i] = (float) (w.data()[i] * scale[o]);
            String lost = precisionLost(w.data()[i], nw[i], scale[o]);
            if (lost != null) refusal = new Refusal(PRECISION, "folding would change results: output channel " + o + " " + lost);
        }
        if (refusal != null) {
            ctx.refused(n, refusal);
            return false;
        }
        List<String> operands = new ArrayList<>(p.inputs());
        operands.set(wi, r.constant(p.inputs().get(wi) + ".bn_folded", HostTensor.of(w.shape(), nw)));
        String bias = r.constant((p.inputs().size() > bi ? p.inputs().get(bi) : p.inputs().get(wi) + ".bias") + ".bn_folded", HostTensor.of(Shape.of(out), nb));
        if (operands.size() > bi) operands.set(bi, bias);
        else operands.add(bias);
        // the conv was copied when we passed it; the folded one takes the batch norm's place and name
        r.emitAs(n, p.op(), operands);
        ctx.fused(n, p.op().mnemonic() + " + batch_norm2d → " + p.op().mnemonic() + " with folded weights", p.type().bytes());
        return true;
    }

    private static Refusal refusal(Graph g, Node bn, Node p) {
        if (p == null || !(p.op() instanceof EpilogueAnchor a) || a.biasOperand() < 1)
            return new Refusal(NOT_THE_PATTERN, "input is not produced by an op with a bias (conv2d, linear)");
        if (a.biasAxis(bn.type().rank()) != 1)
            return new Refusal(SHAPE_MISMATCH, p.op().mnemonic() + " output of rank " + bn.type().rank() + " (channels are not its bias axis)");
        if (!a.epilogue().isNone())
            return new Refusal(ORDER, p.op().mnemonic() + " already applies its epilogue " + a.epilogue() + " before the batch norm");
        if (g.outputs().contains(p.name())) return new Refusal(GRAPH_OUTPUT, p.op().mnemonic() + " output is a graph output");
        if (g.useCount(p.name()) != 1) return new Refusal(SECOND_CONSUMER, p.op().mnemonic() + " output has another consumer");
        for (int i = 1; i < 5; i++)
            if (!hasData(g, bn.inputs().get(i)))
                return new Refusal(NOT_CONSTANT, "batch-norm parameter %" + bn.inputs().get(i) + " is not a bound constant");
        for (int i = 1; i < p.inputs().size(); i++)
            if (!hasData(g, p.inputs().get(i))) return new Refusal(NOT_CONSTANT, "weight %" + p.inputs().get(i) + " is not a bound constant");
        return null;
    }

    /**
     * Scaling the weights first is exact enough except at the ends of the f32 range: a non-zero
     * weight that underflows to 0 turns conv(±Inf)·s = ±Inf into 0·Inf = NaN, and a finite one that
     * overflows gives Inf where the graph is finite. Such a batch norm stays unfolded. (A scale of
     * exactly 0 is exact: both forms give 0, or NaN from ±Inf.)
     */
    private static String precisionLost(float w, float folded, double s) {
        if (!Double.isFinite(s)) return "has scale γ/√(var+ε) = " + s;
        if (w != 0 && folded == 0 && s != 0) return "weight " + w + " underflows to 0 when scaled by " + s;
        if (Float.isFinite(w) && !Float.isFinite(folded)) return "weight " + w + " overflows when scaled by " + s;
        return null;
    }

    private static boolean hasData(Graph g, String v) { return g.isConstant(v) && g.weights().containsKey(v); }
}
