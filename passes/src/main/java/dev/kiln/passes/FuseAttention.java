package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Node;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_THE_PATTERN;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.OVERLAP;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;
import static dev.kiln.passes.FusionReport.Kind.UNUSED;

/**
 * softmax(scale · Q·Kᵀ [+ mask]) · V becomes one FusedAttention, found from each softmax:
 * up through scalings (Scale, or mul/div by a scalar constant) and an additive mask to the
 * Q·Kᵀ matmul; down to the matmul with V, either P·V (sequence layout) or V·Pᵀ (SAGAN's
 * layout, which leaves the result channel-major). Transposes that only swap the last two axes
 * of Q, K, V or P are absorbed as layout flags, so nothing is transposed in memory.
 */
public final class FuseAttention implements Pass {
    private static final Ints SWAP_LAST = Ints.of(0, 2, 1);

    @Override public String name() { return "fuse-attention"; }

    private record Match(Node last, FusedAttention op, List<String> operands, List<Node> absorbed) {}

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
                r.emitAs(match.last(), match.op(), match.operands());
                long saved = absorbed.stream().filter(a -> a != match.last()).mapToLong(a -> a.type().bytes()).sum();
                ctx.fused(match.last(), absorbed.stream().map(a -> a.op().mnemonic()).toList() + " → fused_attention", saved);
            }));
        }
        return Rewrite.fusing(g, fusions);
    }

    /** The match, or the {@link Refusal} saying why this softmax does not start an attention chain. */
    private static Object match(Graph g, Node sm, Softmax s, List<Node> absorbed) {
        TensorType t = sm.type();
        if (t.rank() != 3) return new Refusal(SHAPE_MISMATCH, "softmax input has rank " + t.rank() + "; only [B,M,N] attention is fused");
        if (s.axis() != 2) return new Refusal(SHAPE_MISMATCH, "softmax over axis " + s.axis() + ", not the last axis");
        absorbed.add(sm);
        // upwards: scalings and one additive mask, then Q·Kᵀ
        double scale = 1;
        String mask = null, scores = sm.inputs().getFirst();
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
            if (p.op() instanceof Binary b && b.kind() == Binary.Kind.ADD && mask == null) {
                int si = isScoreSide(g, p.inputs().get(0)) ? 0 : isScoreSide(g, p.inputs().get(1)) ? 1 : -1;
                if (si < 0) return new Refusal(NOT_THE_PATTERN, "softmax input is an add of two non-matmul values");
                String other = p.inputs().get(1 - si);
                if (!g.typeOf(other).equals(t)) return new Refusal(SHAPE_MISMATCH, "additive mask " + g.typeOf(other) + " is not [B,M,N] = " + t);
                if (scale != 1) return new Refusal(ORDER, "scaling is applied after the mask");
                mask = other;
                absorbed.add(p);
                scores = p.inputs().get(si);
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
        boolean outChannelMajor;
        String vOperand;
        Node last;
        if (plainMatMul(user) && user.inputs().get(0).equals(sm.name()) && !user.inputs().get(1).equals(sm.name())) {
            outChannelMajor = false;
            vOperand = user.inputs().get(1);
            last = user;
        } else if (isSwapLast(user) && g.useCount(user.name()) == 1 && !g.outputs().contains(user.name())
                && g.consumers(user.name()).getFirst() instanceof Node mm && plainMatMul(mm)
                && mm.inputs().get(1).equals(user.name()) && !mm.inputs().get(0).equals(user.name())) {
            absorbed.add(user);
            outChannelMajor = true;
            vOperand = mm.inputs().get(0);
            last = mm;
        } else {
            return new Refusal(NOT_THE_PATTERN, "attention probabilities feed " + user.op().mnemonic() + " " + PassContext.where(user) + ", not a matmul with V");
        }
        if (g.typeOf(vOperand).rank() != 3) return new Refusal(SHAPE_MISMATCH, "V has rank " + g.typeOf(vOperand).rank());
        absorbed.add(last);
        // operands, absorbing transposes that only swap the last two axes
        Operand q = operand(g, qk.inputs().get(0), false, absorbed);
        Operand k = operand(g, qk.inputs().get(1), true, absorbed);       // Kᵀ given: K itself is channel-major
        Operand v = operand(g, vOperand, outChannelMajor, absorbed);        // V·Pᵀ takes V channel-major
        List<String> operands = new ArrayList<>(List.of(q.value, k.value, v.value));
        if (mask != null) operands.add(mask);
        var op = new FusedAttention((float) scale, mask != null, q.channelMajor, k.channelMajor, v.channelMajor,
                outChannelMajor, Epilogue.NONE);
        try {   // the matmuls may broadcast a batch of 1 (a V shared by the batch); the fused op does not
            TensorType fused = op.inferType(operands.stream().map(g::typeOf).toList());
            if (!fused.equals(last.type())) return new Refusal(SHAPE_MISMATCH, "fused attention would give " + fused + ", not " + last.type());
        } catch (ShapeException e) {
            return new Refusal(SHAPE_MISMATCH, "operands do not fit one attention: " + e.getMessage());
        }
        return new Match(last, op, operands, absorbed);
    }

    private record Operand(String value, boolean channelMajor) {}

    /** The value as stored and its layout flag; a single-use swap-last transpose is looked through. */
    private static Operand operand(Graph g, String value, boolean channelMajor, List<Node> absorbed) {
        Node p = g.producer(value);
        if (p != null && isSwapLast(p) && g.useCount(value) == 1 && !g.outputs().contains(value)) {
            absorbed.add(p);
            return new Operand(p.inputs().getFirst(), !channelMajor);
        }
        return new Operand(value, channelMajor);
    }

    /** A matmul without an epilogue: one that already fused what follows it is no longer the pattern's product. */
    private static boolean plainMatMul(Node n) { return n.op() instanceof MatMul m && m.epilogue().isNone(); }

    private static boolean isSwapLast(Node n) {
        return n.op() instanceof Transpose tr && tr.perm().equals(SWAP_LAST);
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
