package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedExpandDwPwConv;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_POINTWISE;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.OVERLAP;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.UNUSED;

/**
 * depthwise conv (+ bias, activation) → 1×1 conv (+ epilogue) becomes one FusedDwPwConv, so
 * the depthwise result is consumed tile by tile and never stored in full. Runs after
 * fuse-epilogues, so both convs may already carry their epilogues. Refuses, with the reason,
 * when the depthwise result has another consumer or the consumer is not a plain pointwise conv.
 *
 * <p>A 1×1 conv (+ bias, activation) whose only reader is the depthwise conv joins the pair as its
 * expansion (an inverted-residual block, FusedExpandDwPwConv), so the expanded tensor is not stored
 * either; a 1×1 producer that cannot join is reported with the reason, and the pair fuses without it.
 * A 1×1 conv that is already the pointwise half of an earlier pair (MobileNetV1's dw→pw→dw→pw) stays
 * there: the pairs are matched in graph order and an expansion is never taken from one.
 */
public final class FuseDepthwisePointwise implements Pass {
    @Override public String name() { return "fuse-depthwise-pointwise"; }

    /** The conv2d a node computes, or null: one op whether or not it carries an epilogue. */
    private static Conv2d conv(Node n) { return n.op() instanceof Conv2d c ? c : null; }

    @Override public Graph run(Graph g, PassContext ctx) {
        List<Rewrite.Fusion> fusions = new ArrayList<>();
        Set<String> pointwiseHalves = new HashSet<>();
        for (Node dw : g.nodes()) {
            Conv2d d = conv(dw);
            if (d == null || !isDepthwise(g, dw, d)) continue;
            Refusal refusal = refusal(g, dw, d);
            if (refusal != null) { ctx.refused(dw, refusal); continue; }
            Node pw = g.consumers(dw.name()).getFirst();
            Node ex = ExpansionMatch.producer(g, dw);
            Refusal noExpansion = ex == null ? null : ExpansionMatch.refusal(g, ex, dw, pointwiseHalves);
            if (noExpansion != null) ctx.refused(ex, noExpansion);
            if (ex != null && noExpansion == null)
                fusions.add(new Rewrite.Fusion(List.of(ex, dw, pw), r -> emitExpanded(r, ctx, ex, dw, pw)));
            else fusions.add(new Rewrite.Fusion(List.of(dw, pw), r -> emit(r, ctx, dw, pw)));
            pointwiseHalves.add(pw.name());
        }
        return Rewrite.fusing(g, fusions);
    }

    static boolean isDepthwise(Graph g, Node n, Conv2d c) {
        TensorType x = g.typeOf(n.inputs().getFirst()), w = g.typeOf(n.inputs().get(1));
        return c.groups() > 1 && c.groups() == x.dim(1) && w.dim(0) == x.dim(1) && w.dim(1) == 1;
    }

    private static Refusal refusal(Graph g, Node dw, Conv2d d) {
        // the fused op applies one activation to the depthwise result (its midAct) and reads no extra for it
        if (d.epilogue().hasExtra())
            return new Refusal(ORDER, "depthwise conv's epilogue " + d.epilogue() + " reads an extra operand");
        // a pool post-op (fuse-pool-into-conv, if a chosen pipeline ran it first) changes the shape between the convs
        if (d.epilogue().pool() != null) return new Refusal(ORDER, "depthwise conv's epilogue " + d.epilogue() + " pools its result");
        if (d.epilogue().activations().size() > 1)
            return new Refusal(ORDER, "depthwise conv's epilogue " + d.epilogue() + " has more than the one activation the fused op applies between the convs");
        if (g.outputs().contains(dw.name())) return new Refusal(GRAPH_OUTPUT, "depthwise output is a graph output");
        List<Node> users = g.consumers(dw.name());
        if (users.isEmpty()) return new Refusal(UNUSED, "depthwise output is unused");
        if (g.useCount(dw.name()) > 1) {
            Node second = users.size() > 1 ? users.get(1) : users.getFirst();
            return new Refusal(SECOND_CONSUMER, "depthwise output has a second consumer at " + PassContext.where(second));
        }
        Node pw = users.getFirst();
        Conv2d c = conv(pw);
        if (c == null) return notPointwise("consumer " + PassContext.where(pw) + " is " + pw.op().mnemonic() + ", not a pointwise conv");
        if (pw.inputs().indexOf(dw.name()) != 0) return notPointwise("depthwise output is not the consumer's input operand");
        TensorType w = g.typeOf(pw.inputs().get(1));
        if (w.dim(2) != 1 || w.dim(3) != 1) return notPointwise("pointwise kernel is " + w.dim(2) + "x" + w.dim(3) + ", not 1x1");
        if (c.groups() != 1) return notPointwise("pointwise conv has groups=" + c.groups());
        if (c.stride().get(0) != 1 || c.stride().get(1) != 1) return notPointwise("pointwise conv has stride " + c.stride().get(0) + "x" + c.stride().get(1));
        if (c.padding().stream().anyMatch(pad -> pad != 0)) return notPointwise("pointwise conv is padded");
        if (c.epilogue().pool() != null) return new Refusal(ORDER, "pointwise conv's epilogue " + c.epilogue() + " pools its result");
        return null;
    }

    private static Refusal notPointwise(String detail) { return new Refusal(NOT_POINTWISE, detail); }

    private static void emit(Rewrite r, PassContext ctx, Node dw, Node pw) {
        Conv2d d = conv(dw), p = conv(pw);
        List<String> operands = new ArrayList<>();
        operands.add(dw.inputs().get(0));
        operands.add(dw.inputs().get(1));
        operands.add(bias(r, dw));
        operands.add(pw.inputs().get(1));
        operands.add(bias(r, pw));
        if (p.epilogue().hasExtra()) operands.add(pw.inputs().get(3));
        Act mid = d.epilogue().isNone() ? Act.NONE : d.epilogue().activations().getFirst();
        r.emitAs(pw, new FusedDwPwConv(d.stride(), d.padding(), d.dilation(), mid, p.epilogue()), operands);
        ctx.fused(dw, "depthwise " + dw.op().mnemonic() + " + pointwise " + pw.op().mnemonic() + " at " + PassContext.where(pw)
                + " → fused_dw_pw_conv", dw.type().bytes());
    }

    private static void emitExpanded(Rewrite r, PassContext ctx, Node ex, Node dw, Node pw) {
        Conv2d e = conv(ex), d = conv(dw), p = conv(pw);
        List<String> operands = new ArrayList<>(List.of(ex.inputs().get(0), ex.inputs().get(1), bias(r, ex),
                dw.inputs().get(1), bias(r, dw), pw.inputs().get(1), bias(r, pw)));
        if (p.epilogue().hasExtra()) operands.add(pw.inputs().get(3));
        r.emitAs(pw, new FusedExpandDwPwConv(d.stride(), d.padding(), d.dilation(), onlyAct(e), onlyAct(d), p.epilogue()), operands);
        ctx.fused(dw, "expansion " + ex.op().mnemonic() + " at " + PassContext.where(ex) + " + depthwise " + dw.op().mnemonic()
                + " + pointwise " + pw.op().mnemonic() + " at " + PassContext.where(pw) + " → fused_expand_dw_pw_conv",
                ex.type().bytes() + dw.type().bytes());
    }

    /** The one activation a conv's epilogue holds (the refusals made sure there is at most one and no extra). */
    static Act onlyAct(Conv2d c) { return c.epilogue().isNone() ? Act.NONE : c.epilogue().activations().getFirst(); }

    private static String bias(Rewrite r, Node conv) {
        if (conv.inputs().size() > 2) return conv.inputs().get(2);
        int channels = r.src.typeOf(conv.inputs().get(1)).dim(0);
        return r.constant(conv.inputs().get(1) + ".zero_bias", HostTensor.zeros(channels));
    }
}
