package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.OnnxModel.Attribute;
import dev.kiln.frontend.onnx.OnnxModel.Graph;
import dev.kiln.frontend.onnx.OnnxModel.Node;
import dev.kiln.frontend.onnx.OnnxModel.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites of the ONNX node list before lowering, for forms exporters spell out in several
 * nodes that Kiln has one op for.
 * <ul>
 *   <li>GELU: x · 0.5 · (1 + erf(x / √2)), in any association of the three factors, with
 *       x/√2 written as a Div by √2 or a Mul by 1/√2, and operands in either order
 *       → Gelu(x); its tanh form x · 0.5 · (1 + tanh(√(2/π)·(x + 0.044715·x³))) → GeluTanh(x).</li>
 *   <li>x · Sigmoid(x) → Silu(x); x · HardSigmoid(x) (α = 1/6, β = 1/2) → HardSwish(x);
 *       x · Tanh(Softplus(x)) → Mish(x): how PyTorch exports SiLU, hardswish and Mish.</li>
 *   <li>A zero Pad of the spatial axes feeding an AveragePool (PyTorch's avg_pool2d with
 *       padding and count_include_pad) or a Conv, its only use → that op with the padding.</li>
 *   <li>MatMul(x, W) + b with constant W [K,N] and b [N] (nn.Linear on rank &gt; 2 inputs),
 *       the Add the MatMul's only use → LinearBias(x, W, b).</li>
 *   <li>LayerNorm as PyTorch exports it before opset 17: (x − m) / √(ReduceMean((x − m)², A) + ε)
 *       with m = ReduceMean(x, A) over trailing axes A = [−k, −1], then optionally · γ and + β
 *       (constants, each the only use of what it reads) → LayerNorm(x, γ, β) with axis −k.</li>
 * </ul>
 * Replaced nodes' outputs keep their names, so the rest of the graph is untouched; the nodes
 * they absorbed are dropped (their constants simply go unused, and the importer lowers only
 * nodes that some graph output needs). Constants are matched after folding
 * ({@link OnnxConstantFolder#foldStatic}), so a pad or scalar computed by a constant subgraph counts.
 */
final class ImportPatterns {
    private static final double SQRT2 = Math.sqrt(2), TOLERANCE = 1e-6;

    private final List<Node> nodes;
    private final Map<String, Tensor> initializers = new HashMap<>();
    private final Map<String, ConstTensor> folded;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();
    private final Map<Node, Node> replaced = new LinkedHashMap<>();
    private final java.util.Set<Node> dropped = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final String source;

    private ImportPatterns(Graph g, String source, Map<String, ConstTensor> folded) {
        this.nodes = g.nodes();
        this.source = source;
        this.folded = folded;
        for (Tensor t : g.initializers()) initializers.put(t.name(), t);
        for (Node n : nodes) {
            for (String o : n.outputs()) producers.put(o, n);
            for (String i : n.inputs()) {
                if (i.isEmpty()) continue;
                uses.merge(i, 1, Integer::sum);
                consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        for (var o : g.outputs()) uses.merge(o.name(), 1, Integer::sum);
    }

    /** The graph's nodes with the rewrites applied, in an order that is still topological; folded: values known now. */
    static List<Node> apply(Graph g, String source, Map<String, ConstTensor> folded) {
        ImportPatterns p = new ImportPatterns(g, source, folded);
        for (Node n : p.nodes) {
            if (isDefault(n)) switch (n.opType()) {
                case "Mul" -> {
                    p.gelu(n);
                    p.selfGated(n);
                }
                case "Pad" -> p.padInto(n);
                case "MatMul" -> p.linearBias(n);
                case "Div" -> p.layerNorm(n);
                default -> { }
            }
        }
        List<Node> out = new ArrayList<>();
        for (Node n : p.nodes) {
            if (p.dropped.contains(n)) continue;
            out.add(p.replaced.getOrDefault(n, n));
        }
        return out;
    }

    /**
     * m = x·0.5·(1+erf(x/√2)) in one of its three associations; m becomes Gelu(x). The same for
     * the tanh form x·0.5·(1+tanh(√(2/π)·(x+0.044715·x³))), which PyTorch exports decomposed
     * (x³ as x·(x·x)) for gelu(approximate='tanh'); m becomes GeluTanh(x). Matched top-down from
     * the last Mul, so intermediates may be shared (PyTorch's tracer merges equal subexpressions
     * of GELUs written alike): they are left in place, and are dead code unless something else
     * reads them.
     */
    private void gelu(Node m) {
        Gate found = null;
        for (int side = 0; side < 2 && found == null; side++) {
            String p = m.input(side), q = m.input(1 - side);
            Node inner = producers.get(q);
            if (scalarIs(p, 0.5) && is(inner, "Mul")) {                      // (x · A(x)) · 0.5
                for (int k = 0; k < 2 && found == null; k++) {
                    Gate a = onePlusGate(inner.input(k));
                    if (a != null && a.x().equals(inner.input(1 - k))) found = a;
                }
            } else if (onePlusGate(p) != null && is(inner, "Mul")) {         // A(x) · (x · 0.5)
                Gate a = onePlusGate(p);
                if (a.x().equals(otherThanScalar(inner, 0.5))) found = a;
            } else if (is(inner, "Mul") && otherThanScalar(inner, 0.5) != null) {  // x · (A(x) · 0.5)
                Gate a = onePlusGate(otherThanScalar(inner, 0.5));
                if (a != null && p.equals(a.x())) found = a;
            }
        }
        if (found == null || replaced.containsKey(m) || dropped.contains(m)) return;
        replaced.put(m, m.with(found.tanh() ? "GeluTanh" : "Gelu", OpImporter.KILN_DOMAIN, List.of(found.x()), Map.of()));
    }

    /** The x of a GELU's 1 + erf(...) or 1 + tanh(...) factor, and which of the two it is. */
    private record Gate(String x, boolean tanh) {}

    /** For a value 1 + erf(x/√2) or 1 + tanh(√(2/π)·(x + 0.044715·x³)), its x and form; else null. */
    private Gate onePlusGate(String value) {
        Node add = producers.get(value);
        if (!is(add, "Add")) return null;
        Node f = producers.get(otherThanScalar(add, 1) == null ? "" : otherThanScalar(add, 1));
        if (is(f, "Erf")) {
            Node scale = producers.get(f.input(0));
            if (is(scale, "Div") && scalarIs(scale.input(1), SQRT2)) return new Gate(scale.input(0), false);
            if (is(scale, "Mul") && otherThanScalar(scale, 1 / SQRT2) != null) return new Gate(otherThanScalar(scale, 1 / SQRT2), false);
            return null;
        }
        if (!is(f, "Tanh")) return null;
        Node scale = producers.get(f.input(0));
        Node sum = is(scale, "Mul") ? producers.get(nullToEmpty(otherThanScalar(scale, Math.sqrt(2 / Math.PI)))) : null;
        if (!is(sum, "Add")) return null;
        for (int k = 0; k < 2; k++) {
            String x = sum.input(k);
            Node cubic = producers.get(sum.input(1 - k));
            if (is(cubic, "Mul") && x.equals(cubeOf(otherThanScalar(cubic, 0.044715)))) return new Gate(x, true);
        }
        return null;
    }

    /** For a value x·(x·x), (x·x)·x or Pow(x, 3), x; else null. */
    private String cubeOf(String value) {
        Node n = producers.get(nullToEmpty(value));
        if (is(n, "Pow") && scalarIs(n.input(1), 3)) return n.input(0);
        if (!is(n, "Mul")) return null;
        for (int k = 0; k < 2; k++) {
            Node sq = producers.get(n.input(1 - k));
            if (is(sq, "Mul") && sq.input(0).equals(sq.input(1)) && sq.input(0).equals(n.input(k))) return n.input(k);
        }
        return null;
    }

    private static String nullToEmpty(String s) { return s == null ? "" : s; }

    /**
     * x · g(x) where g is one of the gates PyTorch exports these activations as: Sigmoid (SiLU /
     * swish), HardSigmoid with α = 1/6, β = 1/2 (hardswish at opset 13), Tanh(Softplus) (Mish).
     * The product becomes that one activation, which a conv or linear before it can then fuse as
     * its epilogue even though x has two uses (the gate and the product).
     */
    private void selfGated(Node m) {
        if (replaced.containsKey(m) || dropped.contains(m)) return;
        for (int k = 0; k < 2; k++) {
            String x = m.input(k);
            Node gate = producers.get(m.input(1 - k));
            if (gate == null || gate.inputs().isEmpty()) continue;
            boolean ofX = x.equals(gate.input(0));
            String activation = null;
            if (ofX && is(gate, "Sigmoid")) activation = "Silu";
            else if (ofX && is(gate, "HardSigmoid") && near(gate, "alpha", 0.2, 1.0 / 6) && near(gate, "beta", 0.5, 0.5)) activation = "HardSwish";
            else if (is(gate, "Tanh")) {
                Node softplus = producers.get(gate.input(0));
                if (is(softplus, "Softplus") && x.equals(softplus.input(0))) activation = "Mish";
            }
            if (activation == null) continue;
            replaced.put(m, m.with(activation, OpImporter.KILN_DOMAIN, List.of(x), Map.of()));
            return;
        }
    }

    /** Whether the float attribute (ONNX's default when absent) is want. */
    private static boolean near(Node n, String attr, double dflt, double want) {
        Attribute a = n.attributes().get(attr);
        return Math.abs((a == null ? dflt : a.f()) - want) <= 1e-6;
    }

    private void padInto(Node pad) {
        Attribute mode = pad.attributes().get("mode");
        if (mode != null && !mode.s().equals("constant")) return;
        if (!pad.input(2).isEmpty() && !scalarIs(pad.input(2), 0)) return;
        if (!pad.input(3).isEmpty()) return;
        ConstTensor pads = staticConst(pad.input(1));
        if (pads == null || pads.size() != 8) return;
        long[] p = pads.longs();
        for (long v : p) if (v < 0) return;
        if (p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) return;
        long[] spatial = {p[2], p[3], p[6], p[7]};
        Node user = soleConsumer(pad.outputs().getFirst());
        if (user == null || !isDefault(user) || !user.input(0).equals(pad.outputs().getFirst())) return;
        if (!user.attributes().containsKey("auto_pad") || user.attributes().get("auto_pad").s().equals("NOTSET")) {
            long[] own = user.attributes().containsKey("pads") ? user.attributes().get("pads").ints() : new long[4];
            if (own.length != 4) return;
            Map<String, Attribute> attrs = new LinkedHashMap<>(user.attributes());
            switch (user.opType()) {
                case "AveragePool" -> {
                    boolean countsPad = user.attributes().containsKey("count_include_pad") && user.attributes().get("count_include_pad").i() != 0;
                    boolean ownPads = own[0] != 0 || own[1] != 0 || own[2] != 0 || own[3] != 0;
                    if (ownPads && !countsPad) return;     // padded zeros would be counted, the op's own padding not
                    attrs.put("count_include_pad", Attribute.ofInt("count_include_pad", 1));
                }
                case "Conv" -> { }
                default -> { return; }
            }
            long[] sum = new long[4];
            for (int i = 0; i < 4; i++) sum[i] = own[i] + spatial[i];
            attrs.put("pads", Attribute.ofInts("pads", sum));
            List<String> in = new ArrayList<>(user.inputs());
            in.set(0, pad.input(0));
            if (dropped.contains(user) || replaced.containsKey(user)) return;
            dropped.add(pad);
            replaced.put(user, user.with(user.opType(), user.domain(), in, attrs));
        }
    }

    private void linearBias(Node mm) {
        Tensor w = staticTensor(mm.input(1));
        if (w == null || w.dims().length != 2 || !ConstTensor.isFloating(w.dataType())) return;
        Node add = soleConsumer(mm.outputs().getFirst());
        if (!is(add, "Add")) return;
        String bias = add.input(0).equals(mm.outputs().getFirst()) ? add.input(1) : add.input(0);
        Tensor b = staticTensor(bias);
        if (b == null || b.dims().length != 1 || b.dims()[0] != w.dims()[1] || !ConstTensor.isFloating(b.dataType())) return;
        if (replaced.containsKey(mm) || dropped.contains(add) || replaced.containsKey(add)) return;
        dropped.add(mm);
        Node linear = new Node(mm.name(), "LinearBias", OpImporter.KILN_DOMAIN, List.of(mm.input(0), mm.input(1), bias),
                add.outputs(), Map.of(), mm.offset());
        replaced.put(add, linear);
    }

    /** Div(d, Sqrt(Add(ReduceMean(Pow(d, 2), A), ε))) with d = Sub(x, ReduceMean(x, A)), then its affine: see the class comment. */
    private void layerNorm(Node div) {
        Node sub = producers.get(div.input(0)), sqrt = producers.get(div.input(1));
        if (!is(sub, "Sub") || !is(sqrt, "Sqrt")) return;
        Node mean = producers.get(sub.input(1)), add = producers.get(sqrt.input(0));
        if (!is(mean, "ReduceMean") || !mean.input(0).equals(sub.input(0)) || !is(add, "Add")) return;
        double epsilon = Double.isNaN(staticScalar(add.input(1))) ? staticScalar(add.input(0)) : staticScalar(add.input(1));
        String varValue = Double.isNaN(epsilon) ? null : otherThanScalar(add, epsilon);
        Node var = varValue == null ? null : producers.get(varValue);
        if (!is(var, "ReduceMean")) return;
        Node pow = producers.get(var.input(0));
        if (!is(pow, "Pow") || !pow.input(0).equals(div.input(0)) || !scalarIs(pow.input(1), 2)) return;
        long[] axes = trailingAxes(mean);
        if (axes == null || !java.util.Arrays.equals(axes, trailingAxes(var))) return;
        List<String> in = new ArrayList<>(List.of(sub.input(0)));
        Node last = div;
        Node mul = soleConsumer(div.outputs().getFirst());
        if (is(mul, "Mul") && staticTensor(otherInput(mul, last)) != null) {
            in.add(otherInput(mul, last));
            last = mul;
            Node shift = soleConsumer(mul.outputs().getFirst());
            if (is(shift, "Add") && staticTensor(otherInput(shift, last)) != null) {
                in.add(otherInput(shift, last));
                last = shift;
            }
        }
        if (replaced.containsKey(last) || dropped.contains(last)) return;
        Attribute eps = new Attribute("epsilon", OnnxFields.ATTR_TYPE_FLOAT, (float) epsilon, 0, "", null,
                new float[0], new long[0], List.of(), "");
        replaced.put(last, new Node(div.name(), "LayerNorm", OpImporter.KILN_DOMAIN, in, last.outputs(),
                Map.of("axis", Attribute.ofInt("axis", axes[0]), "epsilon", eps), div.offset()));
    }

    /** A ReduceMean's axes when they are −k..−1 in order with keepdims, else null. */
    private long[] trailingAxes(Node reduceMean) {
        Attribute a = reduceMean.attributes().get("axes"), keep = reduceMean.attributes().get("keepdims");
        if (a == null || a.ints().length == 0 || keep != null && keep.i() == 0 || reduceMean.inputs().size() > 1) return null;
        long[] axes = a.ints();
        for (int i = 0; i < axes.length; i++) if (axes[i] != i - axes.length) return null;
        return axes;
    }

    private static String otherInput(Node binary, Node producer) {
        String out = producer.outputs().getFirst();
        return binary.input(0).equals(out) ? binary.input(1) : binary.input(1).equals(out) ? binary.input(0) : null;
    }

    /** A scalar constant's value (NaN when the value is not one). */
    private double staticScalar(String value) {
        ConstTensor t = staticConst(value);
        return t != null && t.size() == 1 && t.isFloating() ? t.get(0) : Double.NaN;
    }

    // ---- helpers ----

    private static boolean isDefault(Node n) { return OnnxFields.isDefaultDomain(n.domain()); }

    private static boolean is(Node n, String opType) { return n != null && isDefault(n) && n.opType().equals(opType); }

    /** The only consumer of value (and value is not a graph output), or null. */
    private Node soleConsumer(String value) {
        List<Node> c = consumers.get(value);
        return uses.getOrDefault(value, 0) == 1 && c != null && c.size() == 1 ? c.getFirst() : null;
    }

    /** For a two-operand node with a scalar constant ≈ c on one side, the other operand; else null. */
    private String otherThanScalar(Node n, double c) {
        if (scalarIs(n.input(1), c)) return n.input(0);
        if (scalarIs(n.input(0), c)) return n.input(1);
        return null;
    }

    private boolean scalarIs(String value, double c) {
        ConstTensor t = staticConst(value);
        return t != null && t.size() == 1 && t.isFloating() && Math.abs(t.get(0) - c) <= TOLERANCE * Math.max(1, Math.abs(c));
    }

    /** The TensorProto of an initializer or of a Constant node's value attribute; null otherwise. */
    private Tensor staticTensor(String value) {
        Tensor t = initializers.get(value);
        if (t != null) return t;
        Node p = producers.get(value);
        if (p == null || !isDefault(p) || !p.opType().equals("Constant")) return null;
        Attribute a = p.attributes().get("value");
        return a == null ? null : a.t();
    }

    /** The decoded value of a small static tensor (also Constant's value_float / value_ints forms, and folded values). */
    private ConstTensor staticConst(String value) {
        if (value.isEmpty()) return null;
        ConstTensor known = folded.get(value);
        if (known != null) return known.size() <= 64 ? known : null;
        Tensor t = staticTensor(value);
        if (t != null) {
            long count = 1;
            for (long d : t.dims()) count *= d;
            return count <= 64 && !t.isExternal() ? ConstTensor.decode(t, source) : null;
        }
        Node p = producers.get(value);
        if (p == null || !isDefault(p) || !p.opType().equals("Constant")) return null;
        Attribute f = p.attributes().get("value_float"), ints = p.attributes().get("value_ints");
        if (f != null) return ConstTensor.ofFloats(new int[0], new float[]{f.f()});
        if (ints != null) return ConstTensor.ofLongs(new int[]{ints.ints().length}, ints.ints());
        return null;
    }
}
