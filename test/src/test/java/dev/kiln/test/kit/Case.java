package dev.kiln.test.kit;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One test case: a graph with its constants' data bound, and data for its inputs. Its text
 * form (a {@code .kcase} file, as kept under {@code regressions/}) is the graph's text IR
 * followed by one comment line per input and constant, which the IR parser skips:
 * <pre>
 * graph @case(%x: f32[2]) { ... }
 * // data %x = [1.0, -0.0, NaN, Infinity]
 * </pre>
 * Values print with {@link Float#toString}, which reads back to the same float bits.
 */
public record Case(Graph graph, Map<String, HostTensor> inputs) {
    private static final String DATA = "// data %";

    public Case {
        inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    }

    public int nodeCount() { return graph.nodes().size(); }

    /** Elements over every input, constant and node: the case's size, for shrinking. */
    public long elements() {
        long n = 0;
        for (Graph.Value v : graph.inputs()) n += v.type().shape().size();
        for (TensorType t : graph.constants().values()) n += t.shape().size();
        for (Node node : graph.nodes()) n += node.type().shape().size();
        return n;
    }

    public String toText(String header) {
        StringBuilder b = new StringBuilder();
        for (String line : header.split("\n")) b.append("// ").append(line).append('\n');
        b.append(IrPrinter.print(graph));
        DataGen.tensors(this).forEach((name, t) -> b.append(DATA).append(name(name)).append(" = ").append(values(t)).append('\n'));
        return b.toString();
    }

    public static String values(HostTensor t) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < t.size(); i++) b.append(i > 0 ? ", " : "").append(t.data()[i]);
        return b.append(']').toString();
    }

    /** Reads the text form; source names it in errors. */
    public static Case parse(String text, String source) {
        Graph g = IrParser.parse(text, source);
        Map<String, float[]> data = new HashMap<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.startsWith(DATA)) continue;
            int eq = line.lastIndexOf(" = [");
            if (eq < 0 || !line.endsWith("]")) throw new MalformedFileException(source + ":" + (i + 1) + ": expected '// data %name = [v, ...]'");
            String name = unquote(line.substring(DATA.length(), eq));
            String body = line.substring(eq + 4, line.length() - 1).strip();
            float[] v = body.isEmpty() ? new float[0] : Arrays.stream(body.split(",")).map(String::strip)
                    .collect(() -> new FloatList(), FloatList::add, FloatList::addAll).toArray();
            data.put(name, v);
        }
        Map<String, HostTensor> inputs = new LinkedHashMap<>(), weights = new HashMap<>();
        for (Graph.Value v : g.inputs()) inputs.put(v.name(), tensor(data, v.name(), v.type(), source));
        for (var e : g.constants().entrySet()) weights.put(e.getKey(), tensor(data, e.getKey(), e.getValue(), source));
        return new Case(g.withWeights(weights), inputs);
    }

    private static HostTensor tensor(Map<String, float[]> data, String name, TensorType t, String source) {
        float[] v = data.get(name);
        if (v == null) throw new MalformedFileException(source + ": no '// data %" + name + "' line");
        return HostTensor.of(t.shape(), v);
    }

    // ---- edits (the shrinker's moves); each returns a well-formed case or throws ----

    /** Only these outputs, then without the nodes, inputs and constants no output needs. */
    public Case withOutputs(List<String> outputs) {
        return rebuild(graph.inputs(), inputs, graph.nodes(), outputs, false).withoutDeadCode();
    }

    /** Nodes no output depends on removed; inputs and constants nothing reads removed. */
    public Case withoutDeadCode() {
        Set<String> live = new HashSet<>(graph.outputs());
        List<Node> nodes = graph.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) if (live.contains(nodes.get(i).name())) live.addAll(nodes.get(i).inputs());
        List<Node> kept = nodes.stream().filter(n -> live.contains(n.name())).toList();
        List<Graph.Value> in = graph.inputs().stream().filter(v -> live.contains(v.name())).toList();
        return rebuild(in, inputs, kept, graph.outputs(), false);
    }

    /** Without the inputs and constants nothing reads (dead nodes stay). */
    public Case pruned() { return rebuild(graph.inputs(), inputs, graph.nodes(), graph.outputs(), true); }

    /** Node %name becomes a graph input holding the given data (the graph above it is cut off). */
    public Case cutAt(String name, HostTensor data) {
        Node n = graph.producer(name);
        List<Graph.Value> in = new ArrayList<>(graph.inputs());
        in.add(new Graph.Value(name, n.type()));
        Map<String, HostTensor> d = new LinkedHashMap<>(inputs);
        d.put(name, data);
        return rebuild(in, d, graph.nodes().stream().filter(m -> m != n).toList(), graph.outputs(), false).withoutDeadCode();
    }

    /** Node %name removed, its uses reading %replacement (of the same type) instead. */
    public Case bypass(String name, String replacement) {
        UnaryOperator<String> r = v -> v.equals(name) ? replacement : v;
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes())
            if (!n.name().equals(name)) nodes.add(new Node(n.name(), n.op(), n.inputs().stream().map(r).toList(), n.type(), n.origin()));
        List<String> outs = graph.outputs().stream().map(r).distinct().toList();
        return rebuild(graph.inputs(), inputs, nodes, outs, false).withoutDeadCode();
    }

    /** Other data of the same kinds for a second call: every input reversed and negated. */
    public Case withOtherInputs() {
        Map<String, HostTensor> d = new LinkedHashMap<>();
        inputs.forEach((k, t) -> {
            float[] v = new float[t.size()];
            for (int i = 0; i < v.length; i++) v[i] = -t.data()[v.length - 1 - i];
            d.put(k, HostTensor.of(t.shape(), v));
        });
        return new Case(graph, d);
    }

    /** The case with one input's or constant's data replaced. */
    public Case withData(String name, HostTensor t) {
        if (inputs.containsKey(name)) {
            Map<String, HostTensor> d = new LinkedHashMap<>(inputs);
            d.put(name, t);
            return new Case(graph, d);
        }
        return new Case(graph.withWeights(Map.of(name, t)), inputs);
    }

    /** A graph of these parts; constants nothing reads are dropped, and inputs too unless keepInputs (one input always stays). */
    private Case rebuild(List<Graph.Value> in, Map<String, HostTensor> data, List<Node> nodes, List<String> outputs, boolean keepInputs) {
        Set<String> used = new HashSet<>(outputs);
        for (Node n : nodes) used.addAll(n.inputs());
        GraphBuilder b = new GraphBuilder(graph.name());
        Map<String, HostTensor> d = new LinkedHashMap<>();
        boolean anyUsed = in.stream().anyMatch(v -> used.contains(v.name()));
        for (Graph.Value v : in) {
            if (!keepInputs && !used.contains(v.name()) && (anyUsed || v != in.getFirst())) continue;
            b.input(v.name(), v.type());
            d.put(v.name(), data.get(v.name()));
        }
        for (var c : graph.constants().entrySet())
            if (used.contains(c.getKey())) b.declareConstant(c.getKey(), c.getValue(), graph.weight(c.getKey()));
        for (Node n : nodes) b.add(n.name(), n.op(), n.inputs(), n.origin());
        for (String o : outputs) b.output(o);
        return new Case(b.build(), d);
    }

    // ---- names in data lines: bare when the IR would print them bare, else quoted ----

    static String name(String n) {
        boolean bare = !n.isEmpty() && n.chars().allMatch(c -> Character.isLetterOrDigit(c) || "_.$-".indexOf(c) >= 0);
        if (bare) return n;
        return '"' + n.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }

    static String unquote(String s) {
        if (!s.startsWith("\"")) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() - 1) {
                char e = s.charAt(++i);
                b.append(e == 'n' ? '\n' : e);
            } else b.append(c);
        }
        return b.toString();
    }

    private static final class FloatList {
        private float[] a = new float[16];
        private int n;
        void add(String s) { if (n == a.length) a = Arrays.copyOf(a, n * 2); a[n++] = Float.parseFloat(s); }
        void addAll(FloatList o) { for (int i = 0; i < o.n; i++) add(Float.toString(o.a[i])); }
        float[] toArray() { return Arrays.copyOf(a, n); }
    }
}
