package dev.kiln.runtime;

import dev.kiln.ir.Graph;

import java.util.List;
import java.util.stream.Collectors;

/** The named, typed inputs and outputs of a compiled graph, in order. */
public record Signature(List<Graph.Value> inputs, List<Graph.Value> outputs) {
    public Signature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public static Signature of(Graph g) {
        return new Signature(g.inputs(), g.outputs().stream().map(o -> new Graph.Value(o, g.typeOf(o))).toList());
    }

    public List<String> inputNames() { return inputs.stream().map(Graph.Value::name).toList(); }
    public List<String> outputNames() { return outputs.stream().map(Graph.Value::name).toList(); }

    /** "(x: f32[1,3,8,8]) -> (t7: f32[1,10])". */
    @Override public String toString() { return list(inputs) + " -> " + list(outputs); }

    private static String list(List<Graph.Value> vs) {
        return vs.stream().map(v -> v.name() + ": " + v.type()).collect(Collectors.joining(", ", "(", ")"));
    }
}
