package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Transpose;

import java.util.List;

/**
 * Rules: reshape to the same shape → its operand; reshape(reshape(x)) → reshape(x);
 * identity transpose → its operand; transpose(transpose(x)) → one transpose (or none).
 */
public final class SimplifyReshapes implements Pass {
    @Override public String name() { return "simplify-reshapes"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        return Rewrite.eachNode(g, (r, n) -> {
            String x = n.inputs().isEmpty() ? null : r.map(n.inputs().getFirst());
            switch (n.op()) {
                case Reshape rs when r.out.typeOf(x).equals(n.type()) -> r.alias(n, x);
                case Reshape rs when producerOp(r, x) instanceof Reshape -> r.emitAs(n, rs, List.of(r.out.producer(x).inputs().getFirst()));
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
        });
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
