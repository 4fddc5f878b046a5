package dev.kiln.runtime;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;

/**
 * A graph in Graphviz's dot language: inputs and outputs as ellipses, one box per node with its
 * op, result type and origin; weights are not drawn but counted in the box of the node using them.
 * Render with {@code dot -Tsvg graph.dot -o graph.svg}.
 */
public final class GraphDot {
    private GraphDot() {}

    public static String of(Graph g) {
        StringBuilder b = new StringBuilder("digraph ").append(quote(g.name())).append(" {\n")
                .append("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"monospace\", fontsize=10];\n");
        for (Graph.Value in : g.inputs())
            b.append("  ").append(quote("in:" + in.name())).append(" [shape=ellipse, label=").append(quote(in.name() + "\n" + in.type())).append("];\n");
        for (Node n : g.nodes()) {
            long weights = n.inputs().stream().filter(g::isConstant).count();
            String label = n.op().mnemonic() + "\n%" + n.name() + ": " + n.type()
                    + (n.origin().isEmpty() ? "" : "\n" + n.origin()) + (weights == 0 ? "" : "\n+" + weights + " weight" + (weights > 1 ? "s" : ""));
            b.append("  ").append(quote("n:" + n.name())).append(" [label=").append(quote(label)).append("];\n");
            for (String i : n.inputs()) {
                if (g.isConstant(i)) continue;
                b.append("  ").append(quote(g.isInput(i) ? "in:" + i : "n:" + i)).append(" -> ").append(quote("n:" + n.name())).append(";\n");
            }
        }
        for (String o : g.outputs()) {
            b.append("  ").append(quote("out:" + o)).append(" [shape=ellipse, label=").append(quote(o + "\n" + g.typeOf(o))).append("];\n");
            String from = g.isInput(o) ? "in:" + o : g.isConstant(o) ? null : "n:" + o;
            if (from != null) b.append("  ").append(quote(from)).append(" -> ").append(quote("out:" + o)).append(";\n");
        }
        return b.append("}\n").toString();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
