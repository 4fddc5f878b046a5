package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Transpose;

import java.util.List;

/**
 * Rules: reshape to the same shape → its operand; reshape(reshape(x)) → reshape(x) (or x);
 * identity transpose → its operand; transpose(transpose(x)) → one transpose (or none);
 * f(reshape(x)) → reshape(f(x)) for an element-wise f (and a batch norm when the reshape keeps
 * the batch and channel axes), when the reshape has no other reader. The last one is what lets a
 * 1-D convolution, traced as a 2-D one between reshapes, take the batch norm and activation that
 * follow it: the reshapes move down past them, meet the next one's and cancel.
 */
public final class SimplifyReshapes implements Pass {
    @Override public String name() { return "simplify-reshapes"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        // a reshape a node moved past is left unread: drop it now, so the passes that follow (batch norm folding,
        // epilogue fusion) see the node it fed with one reader
        return new DeadCodeElimination().run(Rewrite.eachNode(g, (r, n) -> {
            String x = n.inputs().isEmpty() ? null : r.map(n.inputs().getFirst());
            switch (n.op()) {
                case Reshape rs when r.out.typeOf(x).equals(n.type()) -> r.alias(n, x);
                case Reshape rs when producerOp(r, x) instanceof Reshape -> {
                    String src = r.out.producer(x).inputs().getFirst();
                    if (r.out.typeOf(src).equals(n.type())) r.alias(n, src);
                    else r.emitAs(n, rs, List.of(src));
                }
                case Unary u when sinksBelowReshape(r, n, x, false) -> sink(r, n, x);
                case Scale s when sinksBelowReshape(r, n, x, false) -> sink(r, n, x);
                case BatchNorm2d bn when sinksBelowReshape(r, n, x, true) -> sink(r, n, x);
                case Transpose t when isIdentity(t.perm().toArray()) -> r.alias(n, x);
                case Transpose t when producerOp(r, x) instanceof Transpose inner -> {
                    int[] p = new int[t.perm().size()];
                    for (int i = 0; i < p.length; i++) p[i] = inner.perm().get(t.perm().get(i));
                    String src = r.out.producer(x).inputs().getFirst();
                    if (isIdentity(p)) r.alias(n, src);
                    else r.emitAs(n, new Transpose(p), List.of(src));
                }
                default -> { return false; }
            }
            return true;
        }), ctx);
    }

    /** Whether n reads a reshape that only n reads (so moving n above it computes nothing twice). */
    private static boolean sinksBelowReshape(Rewrite r, Node n, String x, boolean keepChannels) {
        if (!(producerOp(r, x) instanceof Reshape) || r.src.useCount(n.inputs().getFirst()) != 1 || r.src.isConstant(n.inputs().getFirst())) return false;
        if (!keepChannels) return true;
        int[] before = r.out.typeOf(r.out.producer(x).inputs().getFirst()).shape().dims(), after = n.type().shape().dims();
        return before.length >= 2 && after.length >= 2 && before[0] == after[0] && before[1] == after[1];
    }

    /** n's op on the reshape's operand, then the reshape: n's readers see the same values. */
    private static void sink(Rewrite r, Node n, String x) {
        List<String> operands = new java.util.ArrayList<>(r.map(n.inputs()));
        operands.set(0, r.out.producer(x).inputs().getFirst());
        String moved = r.out.add(r.out.freshName(n.name() + ".unreshaped"), n.op(), operands, n.origin());
        r.out.add(n.name(), new Reshape(n.type().shape().dims()), List.of(moved), n.origin());
    }

    private static Object producerOp(Rewrite r, String value) {
        var p = r.out.producer(value);
        return p == null ? null : p.op();
    }

    static boolean isIdentity(int[] perm) {
        for (int i = 0; i < perm.length; i++) if (perm[i] != i) return false;
        return true;
    }
}
