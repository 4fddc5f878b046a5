package dev.kiln.ir;

import dev.kiln.ir.op.Op;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a graph node by node, inferring each node's type as it is added, so a shape error
 * is reported at the node (and DSL module) that caused it.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Graph.Value> inputs = new ArrayList<>();
    private final Map<String, TensorType> constantTypes = new LinkedHashMap<>();
    private final Map<String, HostTensor> constantData = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final Map<String, TensorType> types = new HashMap<>();
    private final Map<String, Node> producers = new HashMap<>();
    private int counter;

    public GraphBuilder(String name) { this.name = name; }

    /** A builder holding a copy of g's inputs and constants but no nodes: the start of most rewrites. */
    public static GraphBuilder from(Graph g) {
        GraphBuilder b = new GraphBuilder(g.name());
        for (Graph.Value v : g.inputs()) b.input(v.name(), v.type());
        for (var e : g.constants().entrySet()) b.declareConstant(e.getKey(), e.getValue(), g.weights().get(e.getKey()));
        b.counter = g.nodes().size();
        return b;
    }

    public String input(String name, TensorType type) {
        define(name, type);
        inputs.add(new Graph.Value(name, type));
        return name;
    }

    public String constant(String name, HostTensor data) { return declareConstant(name, data.type(), data); }

    /** Declares a constant; data may be null when only the type is known (parsed IR). */
    public String declareConstant(String name, TensorType type, HostTensor data) {
        if (data != null && !data.shape().equals(type.shape()))
            throw new ShapeException("constant %" + name + " declared " + type + " but its data is " + data.type());
        define(name, type);
        constantTypes.put(name, type);
        if (data != null) constantData.put(name, data);
        return name;
    }

    /** Adds {@code op(inputs)} under a fresh name. */
    public String add(Op op, List<String> in, String origin) { return add(freshName(), op, in, origin); }

    /** Adds {@code name = op(inputs)}, inferring its type now; a shape error names the node and origin. */
    public String add(String name, Op op, List<String> in, String origin) {
        List<TensorType> inTypes = new ArrayList<>();
        for (String i : in) {
            TensorType t = types.get(i);
            if (t == null) throw new KilnException("graph @" + this.name + ": node %" + name + " (" + origin + ") uses undefined value %" + i);
            inTypes.add(t);
        }
        TensorType type;
        try {
            type = op.inferType(inTypes);
        } catch (ShapeException e) {
            throw new ShapeException("at " + (origin == null || origin.isEmpty() ? "" : origin + " ") + "(%" + name + "): " + e.getMessage());
        }
        return addTyped(new Node(name, op, in, type, origin));
    }

    /** Adds a node whose type is already known (the parser; the verifier checks it later). */
    public String addTyped(Node node) {
        define(node.name(), node.type());
        nodes.add(node);
        producers.put(node.name(), node);
        return node.name();
    }

    public TensorType typeOf(String value) { return types.get(value); }

    /** The node already added that defines value, or null for inputs, constants and unknown names. */
    public Node producer(String value) { return producers.get(value); }
    public boolean isConstant(String value) { return constantTypes.containsKey(value); }
    public HostTensor constantData(String value) { return constantData.get(value); }

    public GraphBuilder output(String value) {
        if (!types.containsKey(value)) throw new KilnException("graph @" + name + ": output %" + value + " is not defined");
        outputs.add(value);
        return this;
    }

    /** A name not yet used in this graph, starting with the hint. */
    public String freshName(String hint) {
        if (!types.containsKey(hint)) return hint;
        String n;
        do n = hint + "." + (counter++); while (types.containsKey(n));
        return n;
    }

    private String freshName() {
        String n;
        do n = "t" + (counter++); while (types.containsKey(n));
        return n;
    }

    private void define(String value, TensorType type) {
        if (types.containsKey(value)) throw new KilnException("graph @" + name + ": value %" + value + " is defined twice");
        types.put(value, type);
    }

    public Graph build() {
        return new Graph(name, inputs, constantTypes, constantData, nodes, outputs);
    }
}
