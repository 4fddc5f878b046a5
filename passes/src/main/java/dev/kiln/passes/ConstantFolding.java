package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates, with the reference semantics, every node whose operands are all constants with
 * data bound, and replaces it by a constant (e.g. a transposed weight, a reshaped bias).
 */
public final class ConstantFolding implements Pass {
    /** Folding is done at compile time in double precision; cap the work so a giant constant matmul does not stall compilation. */
    private static final long MAX_ELEMENTS = 1L << 24;

    @Override public String name() { return "constant-folding"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        return Rewrite.eachNode(g, (r, n) -> {
            List<HostTensor> args = new ArrayList<>();
            for (String in : r.map(n.inputs())) {
                HostTensor t = r.out.isConstant(in) ? r.out.constantData(in) : null;
                if (t == null) return false;
                args.add(t);
            }
            if (args.isEmpty() || n.type().shape().size() > MAX_ELEMENTS) return false;
            r.alias(n, r.constant(n.name(), n.op().evaluate(args)));
            return true;
        });
    }
}
