package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Node;

import java.util.HashMap;
import java.util.Map;

/** Two nodes with the same op, attributes and operands compute the same value: keep the first. */
public final class CommonSubexpressionElimination implements Pass {
    @Override public String name() { return "cse"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        Rewrite r = new Rewrite(g);
        Map<String, String> seen = new HashMap<>();
        for (Node n : g.nodes()) {
            String key = n.op().mnemonic() + "{" + IrPrinter.attributes(n.op()) + "}" + r.map(n.inputs());
            String earlier = seen.get(key);
            if (earlier != null) r.alias(n, earlier);
            else {
                seen.put(key, n.name());
                r.copy(n);
            }
        }
        return r.finish();
    }
}
