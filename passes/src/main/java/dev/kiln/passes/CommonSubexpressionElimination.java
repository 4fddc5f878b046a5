package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;

import java.util.HashMap;
import java.util.Map;

/** Two nodes with the same op, attributes and operands compute the same value: keep the first. */
public final class CommonSubexpressionElimination implements Pass {
    @Override public String name() { return "cse"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        Map<String, String> seen = new HashMap<>();
        return Rewrite.eachNode(g, (r, n) -> {
            String key = n.op().mnemonic() + "{" + IrPrinter.attributes(n.op()) + "}" + r.map(n.inputs());
            String earlier = seen.putIfAbsent(key, n.name());
            if (earlier != null) r.alias(n, earlier);
            return earlier != null;
        });
    }
}
