package dev.kiln.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks that a graph is well formed: every value defined once before it is used, every
 * node's recorded type equal to what its op's shape rule gives, outputs defined, bound
 * constant data matching its declaration. Runs after every pass.
 */
public final class Verifier {
    private Verifier() {}

    /** Throws a KilnException (ShapeException for type errors) naming the first bad node; returns g. */
    public static Graph verify(Graph g) {
        List<String> problems = problems(g);
        if (!problems.isEmpty()) {
            String first = problems.getFirst();
            String msg = "graph @" + g.name() + " is ill-formed: " + first
                    + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : "");
            if (first.contains("type")) throw new ShapeException(msg);
            throw new KilnException(msg);
        }
        return g;
    }

    /** Every problem found, in graph order; empty when the graph is well formed. */
    public static List<String> problems(Graph g) {
        List<String> out = new ArrayList<>();
        Set<String> defined = new HashSet<>();
        for (Graph.Value v : g.inputs())
            if (!defined.add(v.name())) out.add("input %" + v.name() + " is defined twice");
        for (var e : g.constants().entrySet()) {
            if (!defined.add(e.getKey())) out.add("constant %" + e.getKey() + " is defined twice");
            HostTensor data = g.weights().get(e.getKey());
            if (data != null && !data.shape().equals(e.getValue().shape()))
                out.add("constant %" + e.getKey() + " declared " + e.getValue() + " but bound to data of type " + data.type());
        }
        for (Node n : g.nodes()) {
            List<TensorType> in = new ArrayList<>();
            boolean ok = true;
            for (String i : n.inputs()) {
                if (!defined.contains(i)) {
                    out.add(n.describe() + " uses %" + i + ", which is not defined before it");
                    ok = false;
                } else in.add(g.typeOf(i));
            }
            if (ok) {
                try {
                    TensorType t = n.op().inferType(in);
                    if (!t.equals(n.type()))
                        out.add(n.describe() + " has recorded type " + n.type() + " but its operands " + in + " give type " + t);
                } catch (ShapeException e) {
                    out.add(n.describe() + " has operands of the wrong type: " + e.getMessage());
                }
            }
            if (n.op() instanceof dev.kiln.ir.op.EpilogueAnchor a && !(n.op() instanceof dev.kiln.ir.op.Conv2d) && a.epilogue().pool() != null)
                out.add(n.describe() + " carries a pool in its epilogue " + a.epilogue() + "; only conv2d may");
            if (!defined.add(n.name())) out.add(n.describe() + " redefines %" + n.name());
        }
        if (g.outputs().isEmpty()) out.add("graph has no outputs");
        for (String o : g.outputs()) if (!defined.contains(o)) out.add("output %" + o + " is not defined");
        return out;
    }
}
