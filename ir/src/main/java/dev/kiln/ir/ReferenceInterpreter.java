package dev.kiln.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a graph node by node with each op's reference semantics. The oracle for every pass
 * and backend: slow, simple, double accumulation inside each op.
 */
public final class ReferenceInterpreter {
    private ReferenceInterpreter() {}

    /** Outputs by name, in the graph's output order. Inputs are checked against the signature. */
    public static Map<String, HostTensor> run(Graph g, Map<String, HostTensor> inputs) {
        Map<String, HostTensor> env = new HashMap<>();
        bindInputs(g, inputs, env);
        for (var c : g.constants().keySet()) env.put(c, g.weight(c));
        for (Node n : g.nodes()) {
            List<HostTensor> args = new ArrayList<>(n.inputs().size());
            for (String i : n.inputs()) args.add(env.get(i));
            HostTensor r;
            try {
                r = n.op().evaluate(args);
            } catch (ShapeException e) {
                throw new ShapeException("at " + n.describe() + ": " + e.getMessage());
            } catch (InvalidIndexException e) {
                throw new InvalidIndexException("at " + n.describe() + ": " + e.getMessage());
            }
            env.put(n.name(), r);
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String o : g.outputs()) out.put(o, env.get(o));
        return out;
    }

    private static ShapeException dtypeMismatch(Graph.Value v, HostTensor t) {
        String make = switch (v.type().dtype()) {
            case I64 -> "; make it with HostTensor.ofLongs";
            case I32 -> "; make it with HostTensor.ofInts";
            default -> "; make it with HostTensor.of (float values)";
        };
        return new ShapeException("input '" + v.name() + "' is a " + t.type() + " tensor but the graph expects " + v.type() + make);
    }

    /** Convenience for single-input, single-output graphs. */
    public static HostTensor run(Graph g, HostTensor input) {
        if (g.inputs().size() != 1 || g.outputs().size() != 1)
            throw new KilnException("graph @" + g.name() + " has " + g.inputs().size() + " inputs and " + g.outputs().size() + " outputs; pass them by name");
        return run(g, Map.of(g.inputs().getFirst().name(), input)).values().iterator().next();
    }

    /** Checks that the given inputs match the graph's signature exactly, naming the offender. */
    public static void bindInputs(Graph g, Map<String, HostTensor> inputs, Map<String, HostTensor> env) {
        checkInputs(g, inputs);
        for (Graph.Value v : g.inputs()) env.put(v.name(), inputs.get(v.name()));
    }

    /**
     * Throws unless inputs holds exactly the graph's inputs, each of its shape. Allocates nothing
     * when they are right: backends call it on every run.
     */
    public static void checkInputs(Graph g, Map<String, HostTensor> inputs) {
        List<Graph.Value> expected = g.inputs();
        for (int i = 0; i < expected.size(); i++) {
            Graph.Value v = expected.get(i);
            HostTensor t = inputs.get(v.name());
            if (t == null) throw new KilnException("missing input '" + v.name() + "' (expected " + v.type() + "); given " + inputs.keySet());
            if (!t.shape().equals(v.type().shape()))
                throw new ShapeException("input '" + v.name() + "' has shape " + t.shape() + " but the graph expects " + v.type().shape());
            if (t.dtype() != v.type().dtype()) throw dtypeMismatch(v, t);
        }
        if (inputs.size() == expected.size()) return;   // every expected name is present, so no other can be
        for (String k : inputs.keySet())
            if (expected.stream().noneMatch(v -> v.name().equals(k)))
                throw new KilnException("unknown input '" + k + "'; the graph's inputs are " + expected.stream().map(Graph.Value::name).toList());
    }
}
