package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The rebuild every pass shares: copy nodes into a new graph, renaming uses of values that
 * were replaced. A replacement keeps the name of the node it stands for, so outputs and later
 * uses stay valid. Two drivers hold the loops passes would otherwise each write: {@link #fusing}
 * for passes that match a chain of nodes and replace it with one, and {@link #eachNode} for
 * passes that rewrite nodes one at a time.
 */
final class Rewrite {
    /**
     * A match a fusion pass found: the source nodes it replaces, and what it emits in their place.
     * The emit runs where the last of them stood (in graph order), so every operand it reads from
     * outside the match is already in the new graph.
     */
    record Fusion(List<Node> nodes, Consumer<Rewrite> emit) {
        Fusion {
            if (nodes.isEmpty()) throw new IllegalArgumentException("a fusion replaces at least one node");
            nodes = List.copyOf(nodes);
        }
    }

    /**
     * g with each fusion's nodes replaced by what it emits; every other node copied. A node may
     * belong to one fusion only: the scan decides overlaps (and reports them), this checks.
     */
    static Graph fusing(Graph g, List<Fusion> fusions) {
        Map<String, Fusion> owner = new HashMap<>();
        for (Fusion f : fusions)
            for (Node n : f.nodes())
                if (owner.putIfAbsent(n.name(), f) != null)
                    throw new IllegalStateException("%" + n.name() + " is claimed by two fusions");
        Map<String, Integer> position = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) position.put(g.nodes().get(i).name(), i);
        Map<String, Fusion> emitAt = new HashMap<>();
        for (Fusion f : fusions)
            emitAt.put(f.nodes().stream().max(Comparator.comparingInt(n -> position.get(n.name()))).orElseThrow().name(), f);
        Rewrite r = new Rewrite(g);
        for (Node n : g.nodes()) {
            Fusion f = emitAt.get(n.name());
            if (f != null) f.emit().accept(r);
            else if (!owner.containsKey(n.name())) r.copy(n);
        }
        return r.finish();
    }

    /** A one-node rewrite: emits a replacement for n (or aliases it) and returns true, or returns false to keep n as it is. */
    interface NodeRule { boolean rewrite(Rewrite r, Node n); }

    /** g with every node the rule rewrites replaced, in graph order; the rule sees the new graph so far through r. */
    static Graph eachNode(Graph g, NodeRule rule) {
        Rewrite r = new Rewrite(g);
        for (Node n : g.nodes()) if (!rule.rewrite(r, n)) r.copy(n);
        return r.finish();
    }

    final Graph src;
    final GraphBuilder out;
    private final Map<String, String> rename = new HashMap<>();

    Rewrite(Graph src) {
        this.src = src;
        this.out = GraphBuilder.from(src);
    }

    String map(String value) {
        String v = value;
        while (rename.containsKey(v)) v = rename.get(v);
        return v;
    }

    List<String> map(List<String> values) {
        List<String> r = new ArrayList<>(values.size());
        for (String v : values) r.add(map(v));
        return r;
    }

    void copy(Node n) { out.add(n.name(), n.op(), map(n.inputs()), n.origin()); }

    /** Emits op under n's name (n's uses now read it), with operands given as source-graph values. */
    String emitAs(Node n, Op op, List<String> srcOperands) {
        return out.add(n.name(), op, map(srcOperands), n.origin());
    }

    /** As {@link #emitAs(Node, Op, List)} but located at another node's origin (a fusion reports where its chain starts). */
    String emitAs(Node n, Op op, List<String> srcOperands, String origin) {
        return out.add(n.name(), op, map(srcOperands), origin);
    }

    /** Emits a helper node with a fresh name derived from hint; operands given as source values. */
    String emitNew(String hint, Op op, List<String> srcOperands, String origin) {
        return out.add(out.freshName(hint), op, map(srcOperands), origin);
    }

    /** Uses of n now read value instead (n itself is dropped). A replacement under n's own name needs no renaming. */
    void alias(Node n, String value) { if (!value.equals(n.name())) rename.put(n.name(), value); }

    String constant(String hint, HostTensor data) { return out.constant(out.freshName(hint), data); }

    /**
     * Outputs keep their names: they are the compiled model's signature. An output a rewrite
     * aliased to another value (CSE, an identity reshape, a folded constant) gets a copy under
     * its own name, so two outputs never collapse into one.
     */
    Graph finish() {
        for (String o : src.outputs()) {
            String m = map(o);
            if (!m.equals(o) && out.typeOf(o) == null)
                m = out.add(o, new Reshape(src.typeOf(o).shape().dims()), List.of(m), "output " + o);
            out.output(m);
        }
        return out.build();
    }
}
