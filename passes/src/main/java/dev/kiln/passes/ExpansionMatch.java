package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Conv2d;

import java.util.Set;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_POINTWISE;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.OVERLAP;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;

/**
 * Whether the conv feeding a fusable depthwise conv can join it as the expansion of an
 * inverted-residual block (see {@link FuseDepthwisePointwise}): a candidate is any 1×1 conv
 * producing the depthwise input; anything else (a 3×3 stem, a pool, a graph input) is not one
 * and is not reported.
 */
final class ExpansionMatch {
    private ExpansionMatch() {}

    /** The 1×1 conv producing dw's input, or null when the producer is something else. */
    static Node producer(Graph g, Node dw) {
        Node p = g.producer(dw.inputs().getFirst());
        if (p == null || !(p.op() instanceof Conv2d)) return null;
        TensorType w = g.typeOf(p.inputs().get(1));
        return w.rank() == 4 && w.dim(2) == 1 && w.dim(3) == 1 ? p : null;
    }

    /** Why the 1×1 conv ex cannot be dw's expansion, or null when it can. */
    static Refusal refusal(Graph g, Node ex, Node dw, Set<String> pointwiseHalves) {
        Conv2d c = (Conv2d) ex.op();
        if (pointwiseHalves.contains(ex.name()))
            return new Refusal(OVERLAP, "expansion candidate is already the pointwise half of a fused depthwise+pointwise pair");
        if (c.groups() != 1) return new Refusal(NOT_POINTWISE, "expansion candidate has groups=" + c.groups());
        if (c.stride().get(0) != 1 || c.stride().get(1) != 1)
            return new Refusal(NOT_POINTWISE, "expansion candidate has stride " + c.stride().get(0) + "x" + c.stride().get(1));
        if (c.padding().stream().anyMatch(p -> p != 0)) return new Refusal(NOT_POINTWISE, "expansion candidate is padded");
        if (c.epilogue().hasExtra())
            return new Refusal(ORDER, "expansion's epilogue " + c.epilogue() + " reads an extra operand");
        if (c.epilogue().pool() != null) return new Refusal(ORDER, "expansion's epilogue " + c.epilogue() + " pools its result");
        if (c.epilogue().activations().size() > 1)
            return new Refusal(ORDER, "expansion's epilogue " + c.epilogue() + " has more than the one activation the fused op applies");
        if (g.outputs().contains(ex.name())) return new Refusal(GRAPH_OUTPUT, "expanded tensor is a graph output");
        if (g.useCount(ex.name()) > 1) {
            Node other = g.consumers(ex.name()).stream().filter(n -> n != dw).findFirst().orElse(dw);
            return new Refusal(SECOND_CONSUMER, "expanded tensor has a second consumer at " + PassContext.where(other));
        }
        return null;
    }
}
