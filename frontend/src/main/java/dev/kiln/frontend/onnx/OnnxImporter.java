package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.frontend.onnx.OnnxModel.Model;
import dev.kiln.frontend.onnx.OnnxModel.Node;
import dev.kiln.frontend.onnx.OnnxModel.ValueInfo;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.Verifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports an ONNX model, as PyTorch (1.13 and later) exports it, into a Kiln graph: default-domain
 * opsets 13 to 17, static shapes (dynamic dimensions are fixed by the input shapes the caller
 * gives), initializers as graph constants with their data. Shape arithmetic is folded at import;
 * each node becomes Kiln ops (see {@link NnOps}, {@link ElementwiseOps}, {@link ShapeOps},
 * {@link RecurrentOp}); node names become the IR nodes' origins, ONNX value names their names.
 *
 * <p>Errors: a file that is not ONNX or is cut short is a MalformedFileException naming the
 * file and byte offset; every op Kiln cannot import is listed in one UnsupportedOpException
 * with its node name and opset (the import goes on past each, so one after another on a path is
 * listed too, and the nodes that could not be checked without their results are named after
 * them); an out-of-range opset, a dynamic input without a given shape,
 * and a given shape that contradicts the model are refused with what to do instead.
 */
public final class OnnxImporter {
    public static final int MIN_OPSET = 13, MAX_OPSET = 17;

    private static final Map<String, OpImporter> REGISTRY = OpImporter.registry();

    private OnnxImporter() {}

    /** Imports a model whose inputs all have static shapes. */
    public static Graph load(Path path) { return load(path, Map.of()); }

    /** Imports a model, fixing the named inputs' shapes (needed for dynamic dimensions, checked against static ones). */
    public static Graph load(Path path, Map<String, Shape> inputShapes) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new KilnException(path + ": no such file", e);
        } catch (IOException e) {
            throw new KilnException(path + ": cannot read: " + e, e);
        }
        return load(bytes, path.toString(), inputShapes);
    }

    /** Imports a model from bytes; sourceName (a file name) names it in errors and names the graph. */
    public static Graph load(byte[] bytes, String sourceName, Map<String, Shape> inputShapes) {
        Model model = OnnxDecoder.decode(bytes, sourceName);
        checkOpset(model);
        OnnxModel.Graph graph = model.graph();
        if (graph.sparseInitializers() > 0)
            throw new KilnException(sourceName + ": the model has " + graph.sparseInitializers() + " sparse initializers, which Kiln does not import");

        List<Node> nodes = ImportPatterns.apply(graph, sourceName, OnnxConstantFolder.foldStatic(graph, sourceName));
        Set<String> used = new HashSet<>();
        List<Node> live = liveNodes(nodes, graph, used);

        ImportContext ctx = new ImportContext(sourceName, graphName(sourceName), graph.initializers(), used);
        declareInputs(ctx, model, live, inputShapes);
        lowerNodes(ctx, model, live);
        declareOutputs(ctx, graph);
        return Verifier.verify(ctx.builder.build());
    }

    /**
     * The input shapes to import at when every dynamic dimension of every input not in {@code given} is its
     * batch axis (axis 0): those inputs at {@code batch}, the given ones as given. Empty when no input has a
     * dynamic batch axis and nothing else dynamic (import as it is); null when some input has another dynamic
     * dimension (the caller must give its shape; {@link #load} says which).
     */
    public static Map<String, Shape> shapesAtBatch(byte[] bytes, String sourceName, Map<String, Shape> given, int batch) {
        if (batch <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batch);
        OnnxModel.Graph graph = OnnxDecoder.decode(bytes, sourceName).graph();
        Set<String> initializers = new HashSet<>();
        for (OnnxModel.Tensor t : graph.initializers()) initializers.add(t.name());
        Map<String, Shape> out = new java.util.LinkedHashMap<>(given);
        boolean dynamicBatch = false;
        for (ValueInfo in : graph.inputs()) {
            if (initializers.contains(in.name()) || given.containsKey(in.name())) continue;
            if (in.dims() == null) return null;
            int[] d = new int[in.dims().size()];
            for (int i = 0; i < d.length; i++) {
                OnnxModel.Dim dim = in.dims().get(i);
                if (dim.isStatic()) d[i] = Math.toIntExact(dim.value());
                else if (i == 0) { d[i] = batch; dynamicBatch = true; }
                else return null;
            }
            out.put(in.name(), Shape.of(d));
        }
        return dynamicBatch || !given.isEmpty() ? out : Map.of();
    }

    /**
     * The input shapes to import at with every dynamic dimension (batch, sequence, any axis) of every input not in
     * {@code given} set to {@code fill}, the given ones as given; null when some input has no declared shape at all
     * (the caller must give it; {@link #load} says which).
     */
    public static Map<String, Shape> shapesWithDynamicAt(byte[] bytes, String sourceName, Map<String, Shape> given, int fill) {
        if (fill <= 0) throw new IllegalArgumentException("a dynamic dimension's size must be positive, got " + fill);
        OnnxModel.Graph graph = OnnxDecoder.decode(bytes, sourceName).graph();
        Set<String> initializers = new HashSet<>();
        for (OnnxModel.Tensor t : graph.initializers()) initializers.add(t.name());
        Map<String, Shape> out = new java.util.LinkedHashMap<>(given);
        for (ValueInfo in : graph.inputs()) {
            if (initializers.contains(in.name()) || given.containsKey(in.name())) continue;
            if (in.dims() == null) return null;
            out.put(in.name(), Shape.of(in.dims().stream().mapToInt(d -> d.isStatic() ? Math.toIntExact(d.value()) : fill).toArray()));
        }
        return out;
    }

    /**
     * Each input's dimensions as the model declares them, in input order: a number for a static one, the
     * dim_param's name ("batch", "sequence") or "?" for a dynamic one; an input without a declared shape
     * maps to null. What {@code kiln inspect} shows of a model whose shapes are symbolic.
     */
    public static Map<String, List<String>> declaredDims(byte[] bytes, String sourceName) {
        OnnxModel.Graph graph = OnnxDecoder.decode(bytes, sourceName).graph();
        Set<String> initializers = new HashSet<>();
        for (OnnxModel.Tensor t : graph.initializers()) initializers.add(t.name());
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (ValueInfo in : graph.inputs()) {
            if (initializers.contains(in.name())) continue;
            out.put(in.name(), in.dims() == null ? null : in.dims().stream()
                    .map(d -> d.isStatic() ? Long.toString(d.value()) : d.toString().isBlank() ? "?" : d.toString()).toList());
        }
        return out;
    }

    /**
     * The default-domain ONNX ops Kiln imports, sorted, each with how: "op" (becomes Kiln ops) or "constant" (shape
     * arithmetic, folded at import when its inputs are known). The README's list is generated from this
     * ({@code kiln ops --markdown}) and a test keeps them equal.
     */
    public static java.util.SortedMap<String, String> supportedOps() {
        java.util.SortedMap<String, String> ops = new java.util.TreeMap<>();
        for (String k : REGISTRY.keySet()) if (!k.contains(":")) ops.put(k, "op");
        for (String k : OnnxConstantFolder.foldable()) ops.putIfAbsent(k, "constant");
        return ops;
    }

    private static void checkOpset(Model model) {
        long v = model.defaultOpset();
        boolean usesDefault = model.graph().nodes().stream().anyMatch(n -> OnnxFields.isDefaultDomain(n.domain()));
        if (v < 0 && usesDefault)
            throw new UnsupportedOpException(model.source() + ": the model imports no opset of the default ONNX domain (opset_import);"
                    + " Kiln imports opsets " + MIN_OPSET + " to " + MAX_OPSET);
        if (v >= 0 && (v < MIN_OPSET || v > MAX_OPSET))
            throw new UnsupportedOpException(model.source() + ": opset " + v + " of the default ONNX domain is not supported; Kiln imports opsets "
                    + MIN_OPSET + " to " + MAX_OPSET + ". Re-export with torch.onnx.export(..., opset_version=" + (v < MIN_OPSET ? MIN_OPSET : MAX_OPSET)
                    + ") or convert it with onnx.version_converter");
    }

    /** Nodes that contribute to a graph output, in graph order; used collects every value they read. */
    private static List<Node> liveNodes(List<Node> nodes, OnnxModel.Graph graph, Set<String> used) {
        for (ValueInfo o : graph.outputs()) used.add(o.name());
        List<Node> live = new ArrayList<>();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().noneMatch(used::contains)) continue;
            live.add(n);
            for (String in : n.inputs()) if (!in.isEmpty()) used.add(in);
        }
        Collections.reverse(live);
        return live;
    }

    private static boolean known(Node n) {
        if (OnnxFields.isDefaultDomain(n.domain())) return REGISTRY.containsKey(n.opType()) || OnnxConstantFolder.canFold(n.opType());
        return REGISTRY.containsKey(OpImporter.key(n.domain(), n.opType()));
    }

    private static final String UNKNOWN = "Kiln has no importer for this op";

    /** The error listing every node Kiln cannot import, one a line; after is appended (what could not be checked). */
    private static UnsupportedOpException unsupported(String source, List<String> problems, String after) {
        return new UnsupportedOpException(source + ": " + problems.size() + " node" + (problems.size() == 1 ? "" : "s")
                + " Kiln cannot import:\n  " + String.join("\n  ", problems) + after);
    }

    /** "Conv", or "com.example.Foo" outside the default domain. */
    private static String opName(Node n) { return (OnnxFields.isDefaultDomain(n.domain()) ? "" : n.domain() + ".") + n.opType(); }

    private static String describe(Model model, Node n) {
        boolean dflt = OnnxFields.isDefaultDomain(n.domain());
        return opName(n) + " (node '" + n.label() + "', " + (dflt ? "" : "domain " + n.domain() + " ") + "opset " + model.opset(n.domain()) + ")";
    }

    private static void declareInputs(ImportContext ctx, Model model, List<Node> live, Map<String, Shape> given) {
        OnnxModel.Graph graph = model.graph();
        Set<String> names = new LinkedHashSet<>();
        List<String> dynamic = new ArrayList<>();
        for (ValueInfo in : graph.inputs()) {
            if (ctx.isInitializer(in.name())) continue;     // IR versions < 4 list initializers among the inputs
            names.add(in.name());
            boolean integer = in.isTensor() && IntegerOps.INPUT_TYPES.contains(in.elemType());
            if (!in.isTensor() || in.elemType() != OnnxFields.FLOAT && in.elemType() != 0 && !integer)
                throw new ShapeException(ctx.source + ": input '" + in.name() + "' is " + (in.isTensor() ? "a tensor of "
                        + OnnxFields.dataTypeName(in.elemType()) : "not a tensor") + "; Kiln graphs take float32, int64 and int32 tensors"
                        + (in.elemType() == OnnxFields.BOOL ? " (export a mask as int64 or float32)" : ""));
            Shape shape = given.get(in.name());
            if (shape != null) checkGiven(ctx, in, shape);
            else if (in.dims() == null || in.dims().stream().anyMatch(d -> !d.isStatic())) {
                dynamic.add(dynamicMessage(in));
                continue;
            } else shape = Shape.of(in.dims().stream().mapToInt(d -> Math.toIntExact(d.value())).toArray());
            dev.kiln.ir.DType dtype = !integer ? dev.kiln.ir.DType.F32 : in.elemType() == OnnxFields.INT32 ? dev.kiln.ir.DType.I32 : dev.kiln.ir.DType.I64;
            ctx.builder.input(in.name(), new TensorType(dtype, shape));
            ctx.define(in.name(), new Value.Ir(in.name()));
            if (integer) ctx.markInteger(in.name());
        }
        for (String k : given.keySet())
            if (!names.contains(k)) throw new KilnException(ctx.source + ": an input shape is given for '" + k + "', but the model's inputs are " + names);
        if (!dynamic.isEmpty()) {
            // an op Kiln cannot import is the more fundamental problem: report it first
            List<String> unknown = live.stream().filter(n -> !known(n)).map(n -> describe(model, n) + ": " + UNKNOWN).toList();
            if (!unknown.isEmpty()) throw unsupported(ctx.source, unknown, "");
            throw new KilnException(ctx.source + ": Kiln compiles for static shapes, and " + String.join("; ", dynamic));
        }
    }

    private static String dynamicMessage(ValueInfo in) {
        if (in.dims() == null)
            return "input '" + in.name() + "' has no declared shape: pass --input-shape " + in.name() + "=D0,D1,... with its dimensions";
        List<String> free = new ArrayList<>(), example = new ArrayList<>();
        for (int i = 0; i < in.dims().size(); i++) {
            OnnxModel.Dim d = in.dims().get(i);
            if (!d.isStatic()) free.add("'" + d + "' (axis " + i + ")");
            example.add(d.isStatic() ? Long.toString(d.value()) : "1");
        }
        return "input '" + in.name() + "' " + in.dims() + " has dynamic dimension" + (free.size() > 1 ? "s " : " ") + String.join(", ", free)
                + ": pass --input-shape " + in.name() + "=" + String.join(",", example) + " (with the sizes you want), or give the shape to OnnxImporter.load";
    }

    /** A given shape must have the model's rank and agree with every static dimension. */
    private static void checkGiven(ImportContext ctx, ValueInfo in, Shape shape) {
        if (in.dims() == null) return;
        List<String> clashes = new ArrayList<>();
        if (in.dims().size() != shape.rank())
            clashes.add("rank " + shape.rank() + " where the model has rank " + in.dims().size());
        else for (int i = 0; i < shape.rank(); i++) {
            OnnxModel.Dim d = in.dims().get(i);
            if (d.isStatic() && d.value() != shape.dim(i)) clashes.add("axis " + i + " is " + shape.dim(i) + " where the model fixes " + d.value());
        }
        if (!clashes.isEmpty())
            throw new ShapeException(ctx.source + ": the given shape " + shape + " of input '" + in.name() + "' contradicts the model's "
                    + in.dims() + ": " + String.join(", ", clashes));
    }

    /**
     * Lowers every live node; unsupported ones are collected and reported together. The import
     * goes on past an unsupported node, its outputs unknown: a node reading one is still checked
     * as far as it can be without that value (an op with no importer, a Pad's mode, a lone Erf
     * are refused all the same), and is listed as not checked where it needs the value.
     */
    private static void lowerNodes(ImportContext ctx, Model model, List<Node> live) {
        List<String> problems = new ArrayList<>();
        List<Node> unchecked = new ArrayList<>();
        for (Node node : live) {
            if (!known(node)) {
                problems.add(describe(model, node) + ": " + UNKNOWN);
                ctx.markUnknown(node.outputs());
                continue;
            }
            NodeView n = new NodeView(ctx, node);
            try {
                boolean dflt = OnnxFields.isDefaultDomain(node.domain());
                OpImporter importer = REGISTRY.get(OpImporter.key(node.domain(), node.opType()));
                if (dflt && OnnxConstantFolder.canFold(node.opType()) && allConst(ctx, n)) OnnxConstantFolder.fold(n);
                else if (importer != null) importer.lower(n);
                else throw n.unsupported("Kiln evaluates " + node.opType() + " only on constants (shape arithmetic),"
                            + " but here it reads a tensor computed at run time");
                if (dflt) IntegerOps.propagate(ctx, node);
                for (int i = 0; i < node.outputs().size(); i++)
                    if (n.used(i) && !ctx.isDefined(node.outputs().get(i))) throw n.unsupported("output " + i + " ('" + n.out(i) + "') is not supported");
            } catch (UnsupportedOpException e) {
                problems.add(describe(model, node) + ": " + e.getMessage());
                ctx.markUnknown(node.outputs());
            } catch (ImportContext.UnknownValue e) {
                unchecked.add(node);
                ctx.markUnknown(node.outputs());
            }
        }
        if (!problems.isEmpty()) throw unsupported(ctx.source, problems, unchecked(model, unchecked));
    }

    /** Whether every present input is a constant; an unknown input leaves that open, so the node cannot be checked. */
    private static boolean allConst(ImportContext ctx, NodeView n) {
        boolean unknown = false;
        for (int i = 0; i < n.inputCount(); i++) {
            if (!n.has(i)) continue;
            if (ctx.isUnknown(n.node.input(i))) unknown = true;
            else if (!(n.in(i) instanceof Value.Const)) return false;
        }
        if (unknown) throw new ImportContext.UnknownValue(n.node.inputs().toString());
        return true;
    }

    /** The nodes not checked, one line per op type (a model may have hundreds after an early failure). */
    private static String unchecked(Model model, List<Node> nodes) {
        if (nodes.isEmpty()) return "";
        Map<String, List<Node>> byOp = new java.util.LinkedHashMap<>();
        for (Node n : nodes) byOp.computeIfAbsent(opName(n), k -> new ArrayList<>()).add(n);
        StringBuilder b = new StringBuilder("\nand " + nodes.size() + " node" + (nodes.size() == 1 ? "" : "s")
                + " after them that could not be checked, as they read what those nodes compute:");
        byOp.forEach((op, ns) -> b.append("\n  ").append(op).append(" (").append(ns.size() == 1 ? "node " : ns.size() + " nodes: ")
                .append(String.join(", ", ns.stream().limit(4).map(n -> "'" + n.label() + "'").toList())).append(ns.size() > 4 ? ", ..." : "")
                .append(", opset ").append(model.opset(ns.getFirst().domain())).append(")"));
        return b.toString();
    }

    private static void declareOutputs(ImportContext ctx, OnnxModel.Graph graph) {
        for (ValueInfo o : graph.outputs()) {
            Value v = ctx.value(o.name(), null);
            if (v instanceof Value.Const c && !c.data().isFloating())
                throw new UnsupportedOpException(ctx.source + ": graph output '" + o.name() + "' is the constant " + c.data().describe()
                        + "; Kiln graphs output float32 tensors only");
            String ir = switch (v) {
                case Value.Ir i -> i.name();
                case Value.Const c -> ctx.constant(o.name(), c.data().toHost());
            };
            int[] got = ctx.dims(v);
            if (o.dims() != null && o.dims().size() == got.length) {
                for (int i = 0; i < got.length; i++)
                    if (o.dims().get(i).isStatic() && o.dims().get(i).value() != got[i])
                        throw new ShapeException(ctx.source + ": graph output '" + o.name() + "' is declared " + o.dims()
                                + " but the imported graph computes " + Arrays.toString(got));
            }
            ctx.builder.output(ir);
        }
    }

    /** "models/dwsep.onnx" → "dwsep". */
    private static String graphName(String source) {
        String s = source.replace('\\', '/');
        s = s.substring(s.lastIndexOf('/') + 1);
        return s.endsWith(".onnx") ? s.substring(0, s.length() - 5) : s.isEmpty() ? "onnx" : s;
    }
}
