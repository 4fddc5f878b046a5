package dev.kiln.frontend;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * The base of every model and layer, like PyTorch's nn.Module: child modules and parameters
 * are registered under names, and their dotted paths ({@code block1.depthwise.weight}) are
 * the state_dict names weights are loaded by. {@link #forward} describes the computation;
 * {@link #apply} calls it under this module's path so traced nodes point back here.
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private String path = "";

    /** The computation on one input. */
    public abstract Tensor forward(Tensor x);

    /**
     * The element type of the input this module takes when it is the model: f32, or i64 for token ids (a model
     * that starts with an {@link dev.kiln.frontend.nn.Embedding}). The traced graph's input has this type.
     */
    public dev.kiln.ir.DType inputDType() { return dev.kiln.ir.DType.F32; }

    /** Calls forward with this module's path on the tracer's stack (what {@code module(x)} is in PyTorch). */
    public final Tensor apply(Tensor x) {
        Tracer t = x.tracer();
        t.enter(path);
        try {
            return forward(x);
        } finally {
            t.exit();
        }
    }

    /**
     * Runs body with this module's path on the tracer's stack, as {@link #apply} does for one input:
     * for layers whose call takes several tensors (attention's query, key, value and mask).
     */
    protected final Tensor scoped(Tensor anyInput, java.util.function.Supplier<Tensor> body) {
        Tracer t = anyInput.tracer();
        t.enter(path);
        try {
            return body.get();
        } finally {
            t.exit();
        }
    }

    protected final <M extends Module> M register(String name, M child) {
        checkName(name);
        children.put(name, child);
        return child;
    }

    /** Declares (or re-declares, when a setter changes its shape) a parameter with its initialiser. */
    protected final Parameter parameter(String name, Shape shape, LongFunction<HostTensor> init) {
        checkName(name);
        Parameter p = new Parameter(shape, init);
        parameters.put(name, p);
        return p;
    }

    /** This module's parameter as a tensor of the trace in progress. */
    protected final Tensor param(String name) { return Tracer.current().parameter(this, name); }

    /** Records {@code op(inputs)} in the trace in progress. */
    protected final Tensor call(dev.kiln.ir.op.Op op, Tensor... inputs) {
        return Tracer.current().emit(op, java.util.Arrays.stream(inputs).map(Tensor::value).toList());
    }

    /** A constant tensor created during forward. */
    protected final Tensor constant(String hint, HostTensor data) { return Tracer.current().constant(hint, data); }

    protected final void removeParameter(String name) { parameters.remove(name); }

    private static void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("bad module/parameter name '" + name + "'");
    }

    /** Dotted path of this module inside the model being traced ("" for the root). */
    public final String path() { return path; }

    /** Every parameter of this module and its descendants, by dotted name, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        for (var e : parameters.entrySet()) out.put(prefix + e.getKey(), e.getValue());
        for (var e : children.entrySet()) e.getValue().collect(prefix + e.getKey() + ".", out);
    }

    /** Assigns every module its dotted path; done before each trace. */
    final void assignPaths(String p) {
        path = p;
        for (var e : children.entrySet()) e.getValue().assignPaths(p.isEmpty() ? e.getKey() : p + "." + e.getKey());
    }

    /** The parameters' current values by name (initialising unset ones with seed 0 first). */
    public final Map<String, HostTensor> stateDict() {
        initializeMissing(0);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Random initialisation of every parameter, reproducible from the seed (PyTorch-like ranges). */
    @SuppressWarnings("unchecked")
    public final <M extends Module> M initialize(long seed) {
        for (var e : namedParameters().entrySet()) e.getValue().initialize(seed * 1_000_003L + e.getKey().hashCode());
        return (M) this;
    }

    final void initializeMissing(long seed) {
        for (var e : namedParameters().entrySet())
            if (!e.getValue().isSet()) e.getValue().initialize(seed * 1_000_003L + e.getKey().hashCode());
    }

    /**
     * Loads weights by state_dict name. Every parameter must be present with its exact shape,
     * and every tensor given must belong to a parameter; all problems are reported at once
     * and nothing is changed when there is any.
     */
    @SuppressWarnings("unchecked")
    public final <M extends Module> M load(Map<String, HostTensor> weights) {
        Map<String, Parameter> params = namedParameters();
        List<String> problems = new ArrayList<>();
        TreeSet<String> missing = new TreeSet<>(), unexpected = new TreeSet<>();
        for (var e : params.entrySet()) {
            HostTensor w = weights.get(e.getKey());
            if (w == null) missing.add(e.getKey());
            else if (!w.shape().equals(e.getValue().shape()))
                problems.add("'" + e.getKey() + "' has shape " + w.shape() + " but the model expects " + e.getValue().shape());
        }
        for (String k : weights.keySet())
            if (!params.containsKey(k) && !k.endsWith("num_batches_tracked")) unexpected.add(k);
        if (!missing.isEmpty()) problems.add("missing " + missing);
        if (!unexpected.isEmpty()) problems.add("unexpected " + unexpected);
        if (!problems.isEmpty())
            throw (problems.stream().anyMatch(p -> p.contains("has shape")) ? new ShapeException(loadError(problems)) : new KilnException(loadError(problems)));
        params.forEach((k, p) -> p.set(weights.get(k)));
        return (M) this;
    }

    private String loadError(List<String> problems) {
        return "cannot load weights into " + getClass().getSimpleName() + ": " + String.join("; ", problems);
    }

    @Override public String toString() { return getClass().getSimpleName() + (path.isEmpty() ? "" : "(" + path + ")"); }
}
