package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.EpilogueAnchor;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Unary;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;

/**
 * Appends what follows an epilogue anchor (conv, linear, matmul, the fused ops: the
 * {@link dev.kiln.ir.op.EpilogueAnchor} trait) to its {@link Epilogue}, in the order the chain
 * applies it. Rules, each on a single-use result:
 * <ul>
 *   <li>{@code p + c}, c a per-channel constant, while the epilogue is still empty → bias += c</li>
 *   <li>{@code act(p)}, any element-wise activation → appended (so conv → relu → clip fuses whole)</li>
 *   <li>{@code p + r} or {@code p · r}, r of p's shape → add / mul of the extra operand r, appended;
 *       the epilogue has one extra operand, joined at most once by add and once by mul</li>
 *   <li>{@code reshape(p) ∘ r} → r reshaped to p's shape joins as above, the reshape moves after the fused op</li>
 * </ul>
 */
public final class FuseEpilogues implements Pass {
    @Override public String name() { return "fuse-epilogues"; }

    /** A chain starting at a producer: what it absorbs and how to emit it. */
    private static final class Chain {
        final Node producer;
        Epilogue epi;
        String extra;                 // source value joined by combine
        Shape extraReshapeFrom;       // set when extra must be reshaped to the producer's shape
        float[] biasDelta;
        Node last;
        Reshape reshapeAfter;         // set when the chain crossed a reshape
        final List<String> absorbed = new ArrayList<>();
        long bytes;

        final EpilogueAnchor anchor;

        Chain(Node producer, EpilogueAnchor anchor) { this.producer = producer; this.anchor = anchor; this.epi = anchor.epilogue(); this.last = producer; }

        /** The extra operand the epilogue already reads: the anchor's own last operand, or one this chain joined. */
        String extraSoFar() {
            if (extra != null) return extra;
            return epi.hasExtra() ? producer.inputs().getLast() : null;
        }
    }

    @Override public Graph run(Graph g, PassContext ctx) {
        List<Rewrite.Fusion> fusions = new ArrayList<>();
        Set<String> claimed = new HashSet<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof EpilogueAnchor anchor) || claimed.contains(n.name())) continue;
            Chain c = grow(g, n, anchor, claimed);
            Refusal why = refusal(g, c);
            if (why != null) ctx.refused(c.last, why);
            if (c.last == n) continue;
            List<Node> chain = new ArrayList<>(List.of(n));
            for (Node t = n; t != c.last; ) { t = g.consumers(t.name()).getFirst(); chain.add(t); }
            chain.forEach(t -> claimed.add(t.name()));
            fusions.add(new Rewrite.Fusion(chain, r -> emit(r, c, ctx)));
        }
        return Rewrite.fusing(g, fusions);
    }

    private static Chain grow(Graph g, Node producer, EpilogueAnchor anchor, Set<String> claimed) {
        Chain c = new Chain(producer, anchor);
        String tail = producer.name();
        while (g.useCount(tail) == 1 && !g.outputs().contains(tail) && c.reshapeAfter == null) {
            Node next = g.consumers(tail).getFirst();
            if (claimed.contains(next.name())) break;
            TensorType tt = g.typeOf(tail);
            final String from = tail;
            if (next.op() instanceof Reshape rs && g.useCount(next.name()) == 1 && !g.outputs().contains(next.name())) {
                Node after = g.consumers(next.name()).getFirst();
                if (after.op() instanceof Binary b && !claimed.contains(after.name()) && joinsAsExtra(g, c, after, b, next.name(), next.type())) {
                    c.extraReshapeFrom = next.type().shape();
                    c.reshapeAfter = rs;
                    c.absorbed.add("reshape");
                    c.absorbed.add(b.kind().name().toLowerCase());
                    c.bytes += tt.bytes() + next.type().bytes();
                    c.last = after;
                }
                break;
            }
            boolean took = switch (next.op()) {
                case Unary u -> {
                    c.epi = c.epi.then(u.act());
                    c.absorbed.add(u.kind().name().toLowerCase());
                    yield true;
                }
                case Binary b when b.kind() == Binary.Kind.ADD && biasConstant(g, c, next, from) -> {
                    c.absorbed.add("bias add");
                    yield true;
                }
                case Binary b -> joinsAsExtra(g, c, next, b, from, tt) && c.absorbed.add(b.kind().name().toLowerCase());
                default -> false;
            };
            if (!took) break;
            c.bytes += tt.bytes();
            c.last = next;
            tail = next.name();
        }
        return c;
    }

    /**
     * Why the chain stopped before an element-wise op that reads its end (null when nothing such
     * follows): the report says so, so a user sees why an activation stayed a kernel of its own.
     */
    private static Refusal refusal(Graph g, Chain c) {
        String tail = c.last.name();
        List<Node> next = g.consumers(tail).stream().filter(n -> n.op() instanceof Unary || n.op() instanceof Binary).toList();
        if (next.isEmpty() || c.reshapeAfter != null) return null;
        String what = PassContext.where(next.getFirst()) + " (" + next.getFirst().op().mnemonic() + ")";
        if (g.outputs().contains(tail)) return new Refusal(GRAPH_OUTPUT, "output is a graph output, so " + what + " cannot join its epilogue");
        if (g.useCount(tail) > 1)
            return new Refusal(SECOND_CONSUMER, "output has " + g.useCount(tail) + " consumers, so " + what + " cannot join its epilogue");
        Node bin = next.getFirst();
        if (bin.op() instanceof Binary b && joinKind(b) != null) {
            Epilogue.PostOp join = joinKind(b);
            String other = other(bin, tail);
            if (other != null && g.typeOf(other).equals(g.typeOf(tail)) && bin.type().equals(g.typeOf(tail))) {
                if (!c.epi.accepts(join))
                    return new Refusal(ORDER, "the epilogue " + c.epi + " already joins its extra operand by " + join + "; " + what + " would be a second " + join);
                if (c.extraSoFar() != null && !c.extraSoFar().equals(other))
                    return new Refusal(ORDER, "the epilogue already reads %" + c.extraSoFar() + " as its extra operand; " + what
                            + " would need a second one (%" + other + ")");
            }
        }
        return null;
    }

    /** The post-op a binary op becomes when its other operand joins as the extra, or null. */
    private static Epilogue.PostOp joinKind(Binary b) {
        return switch (b.kind()) {
            case ADD -> Epilogue.ADD;
            case MUL -> Epilogue.MUL;
            default -> null;
        };
    }

    /** The operand of bin that is not tail, or null when both are. */
    private static String other(Node bin, String tail) {
        String o = bin.inputs().get(0).equals(tail) ? bin.inputs().get(1) : bin.inputs().get(0);
        return o.equals(tail) ? null : o;
    }

    /**
     * p ∘ r with r of p's shape, where the epilogue can still join r: the first add (or mul) of
     * the extra operand, and r the same extra operand the epilogue already reads, if any.
     */
    private static boolean joinsAsExtra(Graph g, Chain c, Node bin, Binary b, String tail, TensorType tt) {
        Epilogue.PostOp join = joinKind(b);
        String other = other(bin, tail);
        if (join == null || other == null || !bin.type().equals(tt) || !g.typeOf(other).equals(tt) || !c.epi.accepts(join)) return false;
        String already = c.extraSoFar();
        if (already != null && !already.equals(other)) return false;
        if (already == null) c.extra = other;     // a second join reads the operand the first one added
        c.epi = c.epi.then(join);
        return true;
    }

    /** p + c with c a constant that only adds along the bias axis: folded into the bias. */
    private static boolean biasConstant(Graph g, Chain c, Node add, String tail) {
        int bi = c.anchor.biasOperand();
        if (bi < 0 || !c.epi.isNone()) return false;
        String other = add.inputs().get(0).equals(tail) ? add.inputs().get(1) : add.inputs().get(0);
        HostTensor k = g.isConstant(other) ? g.weights().get(other) : null;
        TensorType tt = g.typeOf(tail);
        if (k == null || !add.type().equals(tt)) return false;
        List<String> pin = c.producer.inputs();
        if (pin.size() > bi && !(g.isConstant(pin.get(bi)) && g.weights().containsKey(pin.get(bi)))) return false;
        int axis = c.anchor.biasAxis(tt.rank()), channels = tt.dim(axis);
        int[] kd = k.shape().dims();
        int shift = tt.rank() - kd.length;
        for (int i = 0; i < kd.length; i++)
            if (kd[i] != 1 && !(i + shift == axis && kd[i] == channels)) return false;
        float[] delta = new float[channels];
        for (int ch = 0; ch < channels; ch++) delta[ch] = k.size() == 1 ? k.data()[0] : k.data()[k.size() == channels ? ch : 0];
        if (c.biasDelta == null) c.biasDelta = delta;
        else for (int ch = 0; ch < channels; ch++) c.biasDelta[ch] += delta[ch];
        return true;
    }

    private static void emit(Rewrite r, Chain c, PassContext ctx) {
        Node p = c.producer;
        List<String> operands = new ArrayList<>(p.inputs());
        int bi = c.anchor.biasOperand();
        int channels = bi < 0 ? 0 : p.type().dim(c.anchor.biasAxis(p.type().rank()));
        if (bi >= 0 && (operands.size() <= bi || c.biasDelta != null)) {
            boolean hasBias = operands.size() > bi;
            float[] b = hasBias ? r.src.weight(operands.get(bi)).data().clone() : new float[channels];
            if (c.biasDelta != null) for (int i = 0; i < b.length; i++) b[i] += c.biasDelta[i];
            String name = r.constant(p.inputs().get(1) + (hasBias ? ".bias_fused" : ".zero_bias"), HostTensor.of(b, channels));
            if (hasBias) operands.set(bi, name);
            else operands.add(name);
        }
        if (c.extra != null) {   // the first join of this chain adds the operand (a second join reuses it)
            String extra = c.extra;
            if (c.reshapeAfter != null)
                extra = r.emitNew(c.extra + ".as_" + p.name(), new Reshape(p.type().shape().dims()), List.of(c.extra), c.last.origin());
            operands.add(extra);
        }
        var fusedOp = c.anchor.withEpilogue(c.epi);
        String what = p.op().mnemonic() + " + " + String.join(" + ", c.absorbed) + " → " + fusedOp.mnemonic() + " epilogue=" + c.epi;
        if (c.reshapeAfter != null) {
            String fused = r.emitNew(p.name(), fusedOp, operands, p.origin());
            r.emitAs(c.last, c.reshapeAfter, List.of(fused));
        } else {
            r.emitAs(c.last, fusedOp, operands, p.origin());
        }
        ctx.fused(p, what, c.bytes);
    }
}
