package dev.kiln.frontend.onnx;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Op;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The state of one import: what each ONNX value has become, and the IR graph being built.
 * An ONNX value is either {@link Value.Ir} (a computed f32 tensor of the IR graph) or
 * {@link Value.Const} (known now: an initializer, a Constant, folded shape arithmetic). Constants
 * enter the IR graph only when an IR op takes them as an operand, once each.
 */
final class ImportContext {
    /** What an ONNX value is at import time. */
    sealed interface Value {
        /** A tensor computed by the IR graph, under this IR value name. */
        record Ir(String name) implements Value {}

        /** A tensor known at import time; onnxName is used to name it if it enters the IR graph. */
        record Const(String onnxName, ConstTensor data) implements Value {}
    }

    /**
     * Thrown when a node reads a value that an unsupported node should have computed: the
     * importer goes on past unsupported nodes to find every other one, and a node that needs
     * such a value cannot be checked. Not a KilnException: it never leaves the importer.
     */
    static final class UnknownValue extends RuntimeException {
        UnknownValue(String onnxName) { super(onnxName, null, false, false); }
    }

    final String source;
    final GraphBuilder builder;
    private final Map<String, Value> values = new HashMap<>();
    private final Set<String> unknown = new java.util.HashSet<>();
    private final Map<String, OnnxModel.Tensor> initializers = new HashMap<>();
    private final Map<String, String> materialised = new HashMap<>();
    /** IR values that hold an ONNX integer (or bool) tensor, as exact f32 values: see {@link IntegerOps}. */
    private final Set<String> integers = new java.util.HashSet<>();
    private final Set<String> used;

    ImportContext(String source, String graphName, List<OnnxModel.Tensor> inits, Set<String> used) {
        this.source = source;
        this.builder = new GraphBuilder(graphName);
        this.used = used;
        for (OnnxModel.Tensor t : inits) initializers.put(t.name(), t);
    }

    boolean isInitializer(String onnxName) { return initializers.containsKey(onnxName); }

    /** Whether a live node or a graph output reads this value. */
    boolean isUsed(String onnxName) { return used.contains(onnxName); }

    boolean isDefined(String onnxName) { return values.containsKey(onnxName) || initializers.containsKey(onnxName); }

    void define(String onnxName, Value v) { values.put(onnxName, v); }

    /** Marks the outputs of a node that could not be imported (or checked): reading them throws {@link UnknownValue}. */
    void markUnknown(List<String> onnxNames) { for (String n : onnxNames) if (!n.isEmpty()) unknown.add(n); }

    boolean isUnknown(String onnxName) { return unknown.contains(onnxName); }

    /** The value of an ONNX name; initializers are decoded on first use. */
    Value value(String onnxName, OnnxModel.Node user) {
        if (unknown.contains(onnxName)) throw new UnknownValue(onnxName);
        Value v = values.get(onnxName);
        if (v != null) return v;
        OnnxModel.Tensor t = initializers.get(onnxName);
        if (t != null) {
            v = new Value.Const(onnxName, ConstTensor.decode(t, source));
            values.put(onnxName, v);
            return v;
        }
        throw new MalformedFileException(source + ": " + (user == null ? "graph output" : "node '" + user.label() + "' (" + user.opType() + ")")
                + " reads '" + onnxName + "', which no node, input or initializer defines before it (the nodes must be in topological order)");
    }

    void markInteger(String irName) { integers.add(irName); }

    /** Whether v holds integers: an integer or bool constant, or a computed value marked so. */
    boolean isInteger(Value v) {
        return switch (v) {
            case Value.Ir ir -> integers.contains(ir.name());
            case Value.Const c -> !c.data().isFloating();
        };
    }

    /** The dims of a value, computed or constant. */
    int[] dims(Value v) {
        return switch (v) {
            case Value.Ir ir -> builder.typeOf(ir.name()).shape().dims();
            case Value.Const c -> c.data().dims();
        };
    }

    /**
     * The IR value name of v; a constant is declared in the IR graph (once) under its ONNX name.
     * Integer constants are converted to f32 only where the caller says that is meant (asData).
     */
    String ir(Value v, OnnxModel.Node user, boolean integersAsData) {
        return switch (v) {
            case Value.Ir ir -> ir.name();
            case Value.Const c -> {
                if (!c.data().isFloating() && !integersAsData)
                    throw new UnsupportedOpException("it reads the " + OnnxFields.dataTypeName(c.data().dataType())
                            + " tensor '" + c.onnxName() + "' as data; Kiln computes f32 tensors only");
                String name = materialised.get(c.onnxName());
                if (name == null) {
                    name = constant(c.onnxName(), c.data().toHost());
                    materialised.put(c.onnxName(), name);
                }
                yield name;
            }
        };
    }

    /** Declares a new IR constant under a fresh name made from hint (see {@link #irName}). */
    String constant(String hint, HostTensor data) { return builder.constant(builder.freshName(irName(hint)), data); }

    /** Adds an IR node under a fresh name made from hint (see {@link #irName}); shape errors name the ONNX node. */
    String emit(String hint, Op op, List<String> inputs, String origin) {
        return builder.add(builder.freshName(irName(hint)), op, inputs, origin);
    }

    private static final Pattern SCOPED_OUTPUT = Pattern.compile("/(.*?)_output_(\\d+)(\\..*)?");

    /**
     * A readable IR name for an ONNX value name: PyTorch's "/block1/depthwise/Conv_output_0"
     * becomes "block1.depthwise.Conv" (".N" added for output N &gt; 0), other scoped names lose
     * their slashes the same way, and everything else is kept. Origins keep the ONNX node names.
     */
    static String irName(String onnxName) {
        Matcher m = SCOPED_OUTPUT.matcher(onnxName);
        if (m.matches())
            return m.group(1).replace('/', '.') + (m.group(2).equals("0") ? "" : "." + m.group(2)) + (m.group(3) == null ? "" : m.group(3));
        if (onnxName.startsWith("/") && onnxName.length() > 1) return onnxName.substring(1).replace('/', '.');
        return onnxName;
    }
}
