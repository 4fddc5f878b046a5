package dev.kiln.runtime;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tracer;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

import java.util.List;
import java.util.function.Function;

/** Where a compiled model's specialisations come from: a DSL model re-traced per shape, an ONNX model with dynamic dimensions re-imported per shape, or one fixed graph. */
sealed interface GraphSource {
    /** The ONNX model to keep in a saved artifact so it can be re-imported at other shapes, or null. */
    default byte[] sourceModel() { return this instanceof Onnx o ? o.model() : null; }

    List<String> inputNames();

    /** Compiles the specialisation for these input shapes (in {@link #inputNames()} order). */
    Specialisation specialise(List<Shape> shapes);

    /** A DSL model: each new input shape re-traces it and compiles the new graph. */
    record Traced(Module model, Target target, CompileOptions options) implements GraphSource {
        @Override public List<String> inputNames() { return List.of(options.inputName()); }

        @Override public Specialisation specialise(List<Shape> shapes) {
            Graph g;
            // Tracing assigns module paths and initialises unset parameters: one trace of a model at a time.
            synchronized (model) {
                g = Tracer.trace(model, options.inputName(), shapes.getFirst());
            }
            return Compiler.compile(g, target, options);
        }
    }

    /**
     * An ONNX model with dynamic dimensions (batch, sequence): each new input shape re-imports it at that shape and compiles the
     * graph, as a DSL model is re-traced; {@code primary}, when set (a loaded artifact), is the optimised graph for
     * its own shapes and compiles without the passes. {@code model} is the ONNX file's bytes: data, never code.
     */
    record Onnx(byte[] model, String file, List<String> inputNames, Target target, CompileOptions options, Artifact primary)
            implements GraphSource {
        @Override public Specialisation specialise(List<Shape> shapes) {
            if (primary != null && primary.graph().inputs().stream().map(v -> v.type().shape()).toList().equals(shapes))
                return Compiler.compileOptimised(primary.graph(), primary.fusionReport(), target, options);
            java.util.Map<String, Shape> named = new java.util.LinkedHashMap<>();
            for (int i = 0; i < shapes.size(); i++) named.put(inputNames.get(i), shapes.get(i));
            return Compiler.compile(dev.kiln.frontend.onnx.OnnxImporter.load(model, file, named), target, options);
        }
    }

    /**
     * A graph whose shapes are fixed (a Graph handed in, or an artifact): other shapes are refused.
     * {@code what} names it in errors ("graph @dwsep", "artifact m.kiln").
     */
    record Fixed(Graph graph, String what, Function<Graph, Specialisation> compile) implements GraphSource {
        @Override public List<String> inputNames() { return graph.inputs().stream().map(Graph.Value::name).toList(); }

        @Override public Specialisation specialise(List<Shape> shapes) {
            check(shapes);
            return compile.apply(graph);
        }

        void check(List<Shape> shapes) {
            for (int i = 0; i < shapes.size(); i++) {
                Graph.Value in = graph.inputs().get(i);
                if (!in.type().shape().equals(shapes.get(i)))
                    throw new ShapeException("input '" + in.name() + "' has shape " + shapes.get(i) + " but " + what
                            + " expects " + in.type() + " (its shapes are fixed; compile the DSL model to specialise on new shapes)");
            }
        }
    }
}
