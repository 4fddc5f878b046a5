package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_THE_PATTERN;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.OVERLAP;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;
import static dev.kiln.passes.FusionReport.Kind.UNUSED;

/**
 * softmax(scale · Q·Kᵀ [+ mask]) · V becomes one FusedAttention, found from each softmax over the
 * last axis of [G,M,N] or [B,H,M,N] scores: up through scalings (Scale, or mul/div by a scalar
 * constant), one additive mask and one masked_fill/where with −∞ ({@link AttentionMask}: a
 * triangular constant becomes the causal flag) to the Q·Kᵀ matmul; down to the matmul with V,
 * either P·V (sequence layout) or V·Pᵀ (SAGAN's layout, which leaves the result channel-major).
 * Transposes around Q, K, V and the result whose permutation is an {@link AttentionLayout} (the
 * head split [B,N,H,d] → [B,H,N,d] and merge back, Kᵀ, channel-major maps) are absorbed as
 * layout attributes, and scalings of Q or K into the scale, so nothing is transposed in memory.
 *
 * <p>No length threshold: short sequences fuse too. Measured on the cpu backend (2 threads, batch 1,
 * 4 heads, [1,4,N,d], best of 5×5000 calls, fused / unfused µs, 2026-12-08, AMD EPYC Zen 4): d = 16:
 * N = 8 2.4 / 4.4, 16 4.7 / 5.4, 32 8.2–8.9 / 9.8–10.7, 64 19 / 25; d = 32: 2.8 / 4.6, 5.1–5.3 / 6.2,
 * 9.3–9.7 / 10.3–10.7, 22–35 / 27–68; d = 64: 3.6–3.7 / 5.6, 6.9 / 7.9–8.1, 13–25 / 38, 35 / 41–85. The
 * fused kernel is one step where the chain is four or five, each with its own dispatch, so it wins
 * most at the shortest lengths. Masked forms fuse at every length as well: with an additive −∞ [N,N]
 * mask the fused kernel took 0.53–0.68 ms against the chain's 0.57 at N = 512 and 9.7–10.1 against
 * 14.3–15.9 ms at 2048 (README, "Transformers and masked attention").
 */
public final class FuseAttention implements Pass {
    @Override public String name() { return "fuse-attention"; }

    private record Match(Node last, FusedAttention op, List<String> operands, List<Node> absorbed, AttentionMask select) {}

    @Override public Graph run(Graph g, PassContext ctx) {
        List<Rewrite.Fusion> fusions = new ArrayList<>();
        Set<String> claimed = new HashSet<>();
        for (Node sm : g.nodes()) {
            if (!(sm.op() instanceof Softmax s)) continue;
            List<Node> absorbed = new ArrayList<>();
            Object m = match(g, sm, s, absorbed);
            if (m instanceof Refusal why) { ctx.refused(sm, why); continue; }
            Match match = (Match) m;
            if (absorbed.stream().anyMatch(n -> claimed.contains(n.name()))) {
                ctx.refused(sm, OVERLAP, "overlaps another attention chain");
                continue;
            }
            absorbed.forEach(n -> claimed.add(n.name()));
            fusions.add(new Rewrite.Fusion(absorbed, r -> {
                List<String> operands = match.operands();
                if (match.select() != null) {   // the selecting mask is made here, so it exists in the new graph
                    operands = new ArrayList<>(operands);
                    operands.set(3, match.select().emit(r, g, match.last().origin()));
                }
                r.emitAs(match.last(), match.op(), operands);
                long saved = absorbed.stream().filter(a -> a != match.last()).mapToLong(a -> a.type().bytes()).sum();
                String flags = (match.op().causal() ? " causal" : "") + (match.op().maskSelects() ? " mask=select" : match.op().hasMask() ? " mask=add" : "");
                ctx.fused(match.last(), absorbed.stream().map(a -> a.op().mnemonic()).toList() + " → fused_attention" + flags, saved);
            }));
        }
        return Rewrite.fusing(g, fusions);
    }

    /** The match, or the {@link Refusal} saying why this softmax does not start an attention chain. */
    private static Object match(Graph g, Node sm, Softmax s, List<Node> absorbed) {
        TensorType t = sm.type();
        int rank = t.rank();
        if (rank != 3 && rank != 4) return new Refusal(SHAPE_MISMATCH, "softmax input has rank " + rank + "; only [G,M,N] and [B,H,M,N] attention is fused");
        if (s.axis() != rank - 1) return new Refusal(SHAPE_MISMATCH, "softmax over axis " + s.axis() + ", not the last axis");
        absorbed.add(sm);
        // upwards: scalings, one additive mask and one −∞ select, then Q·Kᵀ
        double scale = 1;
        String mask = null, scores = sm.inputs().getFirst();
        AttentionMask select = null;
        boolean causal = false;
        while (true) {
            Node p = g.producer(scores);
            if (p == null) return new Refusal(NOT_THE_PATTERN, "softmax input is not computed from a Q·Kᵀ matmul");
            if (g.outputs().contains(scores)) return new Refusal(GRAPH_OUTPUT, "intermediate %" + scores + " is a graph output");
            if (g.useCount(scores) != 1) return new Refusal(SECOND_CONSUMER, "intermediate %" + scores + " has another consumer");
            Double f = scalarFactor(g, p, scores);
            if (f != null) {
                scale *= f;
                absorbed.add(p);
                scores = nonConstantOperand(g, p);
                continue;
            }
            if (p.op() instanceof Binary b && b.kind() == Binary.Kind.ADD) {
                int si = isScoreSide(g, p.inputs().get(0)) ? 0 : isScoreSide(g, p.inputs().get(1)) ? 1 : -1;
                if (si < 0) return new Refusal(NOT_THE_PATTERN, "softmax input is an add of two non-matmul values");
                if (mask != null || select != null) return new Refusal(ORDER, "a second mask on the scores");
                String other = p.inputs().get(1 - si);
                if (!broadcastsTo(g.typeOf(other), t))
                    return new Refusal(SHAPE_MISMATCH, "additive mask " + g.typeOf(other) + " does not broadcast to " + t + " along its leading axes");
                if (scale != 1) return new Refusal(ORDER, "scaling is applied after the mask");
                mask = other;
                absorbed.add(p);
                scores = p.inputs().get(si);
                continue;
            }
            Object w = AttentionMask.of(g, p, v -> isScoreSide(g, v));
            if (w instanceof Refusal why) return why;
            if (w instanceof AttentionMask am) {
                if (scale != 1) return new Refusal(ORDER, "scaling is applied after the mask");
                if (am.isCausal(g, t.dim(rank - 2), t.dim(rank - 1)) && !causal) causal = true;
                else if (mask != null || select != null) return new Refusal(ORDER, "a second mask on the scores");
                else if (!am.fits(g, t)) return new Refusal(SHAPE_MISMATCH, "mask " + g.typeOf(am.cond()) + " does not broadcast to " + t + " along its leading axes");
                else select = am;
                absorbed.add(p);
                scores = p.inputs().get(am.scoreSide());
                continue;
            }
            if (!plainMatMul(p)) return new Refusal(NOT_THE_PATTERN, "softmax input comes from " + p.op().mnemonic() + ", not a Q·Kᵀ matmul");
            absorbed.add(p);
            break;
        }
        Node qk = absorbed.getLast();
        // downwards: P·V, or V·Pᵀ
        if (g.outputs().contains(sm.name())) return new Refusal(GRAPH_OUTPUT, "attention probabilities are a graph output");
        if (g.useCount(sm.name()) == 0) return new Refusal(UNUSED, "attention probabilities are unused");
        if (g.useCount(sm.name()) != 1) return new Refusal(SECOND_CONSUMER, "attention probabilities have another consumer");
        Node user = g.consumers(sm.name()).getFirst();
        boolean channelMajorOut;
        String vOperand;
        Node last;
        if (plainMatMul(user) && user.inputs().get(0).equals(sm.name()) && !user.inputs().get(1).equals(sm.name())) {
            channelMajorOut = false;
            vOperand = user.inputs().get(1);
            last = user;
        } else if (isSwapLast(user) && g.useCount(user.name()) == 1 && !g.outputs().contains(user.name())
                && g.consumers(user.name()).getFirst() instanceof Node mm && plainMatMul(mm)
                && mm.inputs().get(1).equals(user.name()) && !mm.inputs().get(0).equals(user.name())) {
            absorbed.add(user);
            channelMajorOut = true;
            vOperand = mm.inputs().get(0);
            last = mm;
        } else {
            return new Refusal(NOT_THE_PATTERN, "attention probabilities feed " + user.op().mnemonic() + " " + PassContext.where(user) + ", not a matmul with V");
        }
        if (g.typeOf(vOperand).rank() != rank) return new Refusal(SHAPE_MISMATCH, "V has rank " + g.typeOf(vOperand).rank() + ", the scores " + rank);
        absorbed.add(last);
        AttentionLayout outLayout = channelMajorOut ? AttentionLayout.CHANNEL_MAJOR : AttentionLayout.ROW_MAJOR;
        if (!channelMajorOut && outputTranspose(g, last) instanceof Node merge) {   // the head merge [B,H,M,E] → [B,M,H,E]
            outLayout = AttentionLayout.of(((Transpose) merge.op()).perm().toArray());
            absorbed.add(merge);
            last = merge;
        }
        // operands, absorbing transposes whose permutation is a layout and scalings of Q and K
        Operand q = operand(g, qk.inputs().get(0), identity(rank), true, absorbed);
        Operand k = operand(g, qk.inputs().get(1), swapLast(rank), true, absorbed);       // Kᵀ given: K itself is channel-major
        Operand v = operand(g, vOperand, channelMajorOut ? swapLast(rank) : identity(rank), false, absorbed);  // V·Pᵀ takes V channel-major
        List<String> operands = new ArrayList<>(List.of(q.value, k.value, v.value));
        if (mask != null) operands.add(mask);
        if (select != null) operands.add(select.cond());      // replaced by the emitted mask; the same shape
        var op = new FusedAttention((float) (scale * q.factor * k.factor), mask != null || select != null, q.layout, k.layout, v.layout,
                outLayout, causal, select != null, Epilogue.NONE);
        try {   // the matmuls may broadcast a batch of 1 (a V shared by the batch); the fused op does not
            TensorType fused = op.inferType(operands.stream().map(g::typeOf).toList());
            if (!fused.equals(last.type())) return new Refusal(SHAPE_MISMATCH, "fused attention would give " + fused + ", not " + last.type());
        } catch (ShapeException e) {
            return new Refusal(SHAPE_MISMATCH, "operands do not fit one attention: " + e.getMessage());
        }
        return new Match(last, op, operands, absorbed, select);
    }

    private record Operand(String value, AttentionLayout layout, double factor) {}

    /**
     * The value as stored, its layout and a scalar factor: single-use transposes whose permutation
     * (composed with how the matmul reads the value) is a layout and single-use scalings are looked through.
     */
    private static Operand operand(Graph g, String value, int[] perm, boolean scalable, List<Node> absorbed) {
        double factor = 1;
        boolean transposed = false;
        while (true) {
            Node p = g.producer(value);
            if (p == null || g.useCount(value) != 1 || g.outputs().contains(value)) break;
            Double f = scalable ? scalarFactor(g, p, value) : null;
            if (f != null) {
                factor *= f;
                absorbed.add(p);
                value = nonConstantOperand(g, p);
                continue;
            }
            if (!transposed && p.op() instanceof Transpose tr) {
                int[] tp = tr.perm().toArray(), composed = new int[perm.length];
                for (int i = 0; i < perm.length; i++) composed[i] = tp[perm[i]];
                if (AttentionLayout.of(composed) == null) break;
                absorbed.add(p);
                value = p.inputs().getFirst();
                perm = composed;
                transposed = true;
                continue;
            }
            break;
        }
        return new Operand(value, AttentionLayout.of(perm), factor);
    }

    /** The attention result's only reader when it is a transpose whose permutation is a layout (the head merge). */
    private static Node outputTranspose(Graph g, Node last) {
        if (g.outputs().contains(last.name()) || g.useCount(last.name()) != 1) return null;
        Node t = g.consumers(last.name()).getFirst();
        return t.op() instanceof Transpose tr && AttentionLayout.of(tr.perm().toArray()) != null
                && AttentionLayout.of(tr.perm().toArray()) != AttentionLayout.ROW_MAJOR ? t : null;
    }

    private static int[] identity(int rank) { return AttentionLayout.ROW_MAJOR.perm(rank); }
    private static int[] swapLast(int rank) { return AttentionLayout.CHANNEL_MAJOR.perm(rank); }

    /** Whether a mask of type m broadcasts to the scores' type from the right with its last axis N. */
    private static boolean broadcastsTo(TensorType m, TensorType scores) {
        int[] d = m.shape().dims(), s = scores.shape().dims();
        if (d.length > s.length || d.length == 0 || d[d.length - 1] != s[s.length - 1]) return false;
        for (int a = 0; a < d.length - 1; a++) if (d[a] != 1 && d[a] != s[s.length - d.length + a]) return false;
        return true;
    }

    /** A matmul without an epilogue: one that already fused what follows it is no longer the pattern's product. */
    private static boolean plainMatMul(Node n) { return n.op() instanceof MatMul m && m.epilogue().isNone(); }

    private static boolean isSwapLast(Node n) {
        return n.op() instanceof Transpose tr && AttentionLayout.of(tr.perm().toArray()) == AttentionLayout.CHANNEL_MAJOR;
    }

    private static boolean isScoreSide(Graph g, String v) {
        Node p = g.producer(v);
        return p != null && (plainMatMul(p) || p.op() instanceof Scale || scalarFactor(g, p, v) != null);
    }

    /** The factor if p multiplies by a constant scalar (Scale, mul or div by a 1-element constant). */
    private static Double scalarFactor(Graph g, Node p, String value) {
        if (p.op() instanceof Scale sc) return (double) sc.factor();
        if (!(p.op() instanceof Binary b) || (b.kind() != Binary.Kind.MUL && b.kind() != Binary.Kind.DIV)) return null;
        HostTensor c0 = scalarConstant(g, p.inputs().get(0)), c1 = scalarConstant(g, p.inputs().get(1));
        if (c1 != null && c0 == null) return b.kind() == Binary.Kind.MUL ? c1.data()[0] : 1.0 / c1.data()[0];
        if (c0 != null && c1 == null && b.kind() == Binary.Kind.MUL) return (double) c0.data()[0];
        return null;
    }

    private static HostTensor scalarConstant(Graph g, String v) {
        HostTensor t = g.isConstant(v) ? g.weights().get(v) : null;
        return t != null && t.size() == 1 ? t : null;
    }

    private static String nonConstantOperand(Graph g, Node p) {
        if (p.inputs().size() == 1) return p.inputs().getFirst();
        return scalarConstant(g, p.inputs().get(1)) != null ? p.inputs().get(0) : p.inputs().get(1);
    }
}
