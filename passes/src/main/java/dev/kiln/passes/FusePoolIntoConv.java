package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Pool;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;

/**
 * conv2d (+ bias, epilogue) → max_pool2d or avg_pool2d becomes one conv2d whose epilogue ends
 * with the pool ({@link Pool}), so the conv's kernel writes pooled outputs and the pre-pool
 * tensor is never stored in full (cnn: conv → relu → 2×2 max pool twice; SqueezeNet's stem).
 * Runs after fuse-epilogues and fuse-depthwise-pointwise: those append to or consume a conv's
 * epilogue, and nothing may follow a pool. Refuses, with the reason, when the conv's result has
 * another reader or is a graph output (it must then exist in full), and when its epilogue joins
 * an extra operand (a residual shaped like the unpooled result).
 */
public final class FusePoolIntoConv implements Pass {
    @Override public String name() { return "fuse-pool-into-conv"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        List<Rewrite.Fusion> fusions = new ArrayList<>();
        for (Node pool : g.nodes()) {
            Pool p = pool.op() instanceof MaxPool2d m ? Pool.of(m) : pool.op() instanceof AvgPool2d a ? Pool.of(a) : null;
            if (p == null) continue;
            Node conv = g.producer(pool.inputs().getFirst());
            if (conv == null || !(conv.op() instanceof Conv2d c)) continue;
            Refusal refusal = refusal(g, conv, c);
            if (refusal != null) { ctx.refused(conv, refusal); continue; }
            fusions.add(new Rewrite.Fusion(List.of(conv, pool), r -> {
                r.emitAs(pool, c.withEpilogue(c.epilogue().then(p)), conv.inputs(), conv.origin());
                ctx.fused(conv, conv.op().mnemonic() + " + " + pool.op().mnemonic() + " → conv2d epilogue=" + c.epilogue().then(p), conv.type().bytes());
            }));
        }
        return Rewrite.fusing(g, fusions);
    }

    private static Refusal refusal(Graph g, Node conv, Conv2d c) {
        if (c.epilogue().hasExtra())
            return new Refusal(ORDER, "the conv's epilogue " + c.epilogue() + " joins an extra operand, which has the unpooled shape");
        if (c.epilogue().pool() != null) return new Refusal(ORDER, "the conv already ends with a pool");
        if (g.outputs().contains(conv.name())) return new Refusal(GRAPH_OUTPUT, "the unpooled conv result is a graph output");
        if (g.useCount(conv.name()) > 1) return new Refusal(SECOND_CONSUMER, "the unpooled conv result has another reader");
        return null;
    }
}
