package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rebuild that most passes share: copy nodes into a new graph, renaming uses of values
 * that were replaced. A replacement keeps the name of the node it stands for, so outputs
 * and later uses stay valid.
 */
final class Rewrite {
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
