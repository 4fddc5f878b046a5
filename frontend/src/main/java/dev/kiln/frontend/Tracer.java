package dev.kiln.frontend;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Verifier;
import dev.kiln.ir.op.Op;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Turns a model into graph IR by running its forward on symbolic tensors. Parameters become
 * graph constants under their state_dict names, and every node records the module path that
 * emitted it.
 */
public final class Tracer {
    private static final ThreadLocal<Tracer> CURRENT = new ThreadLocal<>();
    private final GraphBuilder builder;
    private final Deque<String> paths = new ArrayDeque<>();

    private Tracer(String name) { this.builder = new GraphBuilder(name); }

    /** Traces model on one input named "x" of the given shape; the graph is verified. */
    public static Graph trace(Module model, int... inputShape) { return trace(model, "x", Shape.of(inputShape)); }

    public static Graph trace(Module model, String inputName, Shape inputShape) {
        model.assignPaths("");
        model.initializeMissing(0);
        Tracer t = new Tracer(model.getClass().getSimpleName());
        for (var e : model.namedParameters().entrySet()) t.builder.constant(e.getKey(), e.getValue().value());
        TensorType type = new TensorType(model.inputDType(), inputShape);
        Tensor x = new Tensor(t, t.builder.input(inputName, type), type);
        Tracer outer = CURRENT.get();
        CURRENT.set(t);
        try {
            t.builder.output(model.apply(x).value());
        } finally {
            CURRENT.set(outer);
        }
        return Verifier.verify(t.builder.build());
    }

    static Tracer current() {
        Tracer t = CURRENT.get();
        if (t == null) throw new IllegalStateException("no trace in progress: call Tracer.trace(model, shape)");
        return t;
    }

    void enter(String path) { paths.push(path); }
    void exit() { paths.pop(); }

    Tensor emit(Op op, List<String> inputs) {
        String origin = paths.isEmpty() ? "" : paths.peek();
        String v = builder.add(op, inputs, origin);
        return new Tensor(this, v, builder.typeOf(v));
    }

    /** The symbolic tensor of a parameter of the module being traced. */
    Tensor parameter(Module owner, String name) {
        String full = owner.path().isEmpty() ? name : owner.path() + "." + name;
        TensorType t = builder.typeOf(full);
        if (t == null || !builder.isConstant(full)) throw new IllegalStateException("no parameter '" + full + "' in the trace");
        return new Tensor(this, full, t);
    }

    /** A constant made during forward (e.g. an LSTM's zero state). */
    Tensor constant(String hint, HostTensor data) {
        String name = builder.freshName(paths.isEmpty() || paths.peek().isEmpty() ? hint : paths.peek() + "." + hint);
        builder.constant(name, data);
        return new Tensor(this, name, data.type());
    }
}
