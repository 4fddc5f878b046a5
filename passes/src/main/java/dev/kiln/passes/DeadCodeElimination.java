package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Drops nodes and constants that no output depends on. Inputs stay: they are the signature. */
public final class DeadCodeElimination implements Pass {
    @Override public String name() { return "dce"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        Set<String> live = new HashSet<>(g.outputs());
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--)
            if (live.contains(nodes.get(i).name())) live.addAll(nodes.get(i).inputs());
        GraphBuilder b = new GraphBuilder(g.name());
        for (Graph.Value v : g.inputs()) b.input(v.name(), v.type());
        for (var c : g.constants().entrySet())
            if (live.contains(c.getKey())) b.declareConstant(c.getKey(), c.getValue(), g.weights().get(c.getKey()));
        for (Node n : nodes) if (live.contains(n.name())) b.addTyped(n);
        for (String o : g.outputs()) b.output(o);
        return b.build();
    }
}
