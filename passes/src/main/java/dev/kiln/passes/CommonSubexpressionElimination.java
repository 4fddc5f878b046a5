package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Op;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Two nodes with equal ops and the same operands compute the same value: keep the first.
 *
 * <p>Ops are records whose attributes all compare by value ({@link Op}), so {@code Op.equals}
 * is "same kind, same attributes". Float attributes compare as {@link Float#equals} does
 * (records use {@code Float.compare}): every NaN equals every NaN, which is right here since
 * an op computes the same thing whatever NaN it carries; and −0.0 differs from 0.0, which keeps
 * apart ops whose results may differ in the sign of a zero.
 */
public final class CommonSubexpressionElimination implements Pass {
    @Override public String name() { return "cse"; }

    /** One computation: the op and its operands, as renamed by earlier merges. */
    private record Key(Op op, List<String> operands) {}

    @Override public Graph run(Graph g, PassContext ctx) {
        Map<Key, String> seen = new HashMap<>();
        return Rewrite.eachNode(g, (r, n) -> {
            String earlier = seen.putIfAbsent(new Key(n.op(), r.map(n.inputs())), n.name());
            if (earlier != null) r.alias(n, earlier);
            return earlier != null;
        });
    }
}
