package dev.kiln.runtime;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.onnx.OnnxImporter;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Verifier;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Kiln's front door:
 * <pre>
 * try (CompiledModel m = Kiln.compile(model, Target.cpu(), Shape.of(1, 32, 56, 56))) {
 *     HostTensor y = m.run(x);
 *     m.save(Path.of("model.kiln"));
 * }
 * try (CompiledModel m = Kiln.load(Path.of("model.kiln"))) { ... }
 * </pre>
 */
public final class Kiln {
    public static final String VERSION = "0.1.0";

    private Kiln() {}

    /**
     * Compiles a DSL model for the target. Each shape given is compiled now (the first is the
     * primary specialisation that {@link CompiledModel#save} writes); calls with other input
     * shapes re-trace the model and compile on first use.
     */
    public static CompiledModel compile(Module model, Target target, Shape... inputShapes) {
        return compile(model, target, CompileOptions.defaults(), inputShapes);
    }

    /** As {@link #compile(Module, Target, Shape...)}, with the input's name, cache size, passes and IR dumps chosen. */
    public static CompiledModel compile(Module model, Target target, CompileOptions options, Shape... inputShapes) {
        CompiledModel m = new CompiledModel(new GraphSource.Traced(model, target, options), target, options.cacheCapacity());
        return precompile(m, each(inputShapes));
    }

    /** Compiles a graph (traced, imported from ONNX, or built) now; its input shapes are fixed. */
    public static CompiledModel compile(Graph graph, Target target) { return compile(graph, target, CompileOptions.defaults()); }

    public static CompiledModel compile(Graph graph, Target target, CompileOptions options) {
        Verifier.verify(graph);
        GraphSource.Fixed src = new GraphSource.Fixed(graph, "graph @" + graph.name(), g -> Compiler.compile(g, target, options));
        return precompile(new CompiledModel(src, target, 1), inputsOf(graph));
    }

    /**
     * Imports an ONNX file and compiles it for the target. A model with dynamic dimensions (batch, sequence length,
     * any axis) is compiled at the shapes given in {@code shapes}, with every dynamic dimension of an input not given
     * at 1, now (the primary specialisation), and at each other input shape on first use, from the model re-imported
     * at that shape (its static dimensions are checked); {@link CompiledModel#save} keeps the ONNX model in the
     * artifact for that. With no dynamic dimension the shapes are fixed, as for {@link #compile(Graph, Target)}.
     */
    public static CompiledModel compileOnnx(Path file, Target target, CompileOptions options, Map<String, Shape> shapes) {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new KilnException(file + ": no such file");
        } catch (java.io.IOException e) {
            throw new KilnException(file + ": cannot read: " + e, e);
        }
        String name = file.toString();
        Map<String, Shape> at1 = OnnxImporter.shapesWithDynamicAt(bytes, name, shapes, 1);
        boolean dynamic = at1 != null && OnnxImporter.declaredDims(bytes, name).values().stream()
                .anyMatch(d -> d != null && d.stream().anyMatch(x -> !x.chars().allMatch(Character::isDigit)));
        Graph g = OnnxImporter.load(bytes, name, at1 == null ? shapes : at1);
        if (!dynamic) return compile(g, target, options);
        var src = new GraphSource.Onnx(bytes, name, g.inputs().stream().map(Graph.Value::name).toList(), target, options, null);
        return precompile(new CompiledModel(src, target, options.cacheCapacity()), inputsOf(g));
    }

    /** Loads an artifact for the target it was compiled for, regenerating its kernels. */
    public static CompiledModel load(Path file) { return load(Artifact.read(file)); }

    /** Loads an artifact, refusing it unless it was compiled for this target's backend; the target's options apply. */
    public static CompiledModel load(Path file, Target target) { return load(Artifact.read(file), target); }

    /** Compiles a verified artifact for the target it names, found among the discovered backends. */
    public static CompiledModel load(Artifact a) { return load(a, CompileOptions.defaults()); }

    /** {@link #load(Artifact)} with options: of them, loading reads the cache capacity and {@link CompileOptions#interpretFirstCalls}. */
    public static CompiledModel load(Artifact a, CompileOptions options) {
        Backends known = Backends.discovered();
        if (known.find(a.target()).isEmpty())
            throw new KilnException(a.source() + " was compiled for target '" + a.target() + "', which this build of Kiln does not have (it has "
                    + known.names() + ")");
        return load(a, Target.named(a.target()), options);
    }

    /** Compiles a verified artifact for the target, which must name the backend it was compiled for. */
    public static CompiledModel load(Artifact a, Target target) { return load(a, target, CompileOptions.defaults()); }

    /** {@link #load(Artifact, Target)} with options (see {@link #load(Artifact, CompileOptions)}). */
    public static CompiledModel load(Artifact a, Target target, CompileOptions options) {
        if (!a.target().equals(target.backendName()))
            throw new KilnException(a.source() + " was compiled for target '" + a.target() + "', not '" + target.backendName()
                    + "'; an artifact runs only on the target it was compiled for: recompile the model for " + target.backendName()
                    + " (kiln compile --backend " + target.backendName() + ")");
        if (a.hasSourceModel()) {
            // dynamic dimensions: its own shapes from the optimised graph, other shapes from the ONNX model inside
            var src = new GraphSource.Onnx(a.sourceModel(), a.source() + " section ONNX", a.graph().inputs().stream().map(Graph.Value::name).toList(),
                    target, options, a);
            return precompile(new CompiledModel(src, target, options.cacheCapacity()), inputsOf(a.graph()));
        }
        GraphSource.Fixed src = new GraphSource.Fixed(a.graph(), "artifact " + a.source(),
                g -> Compiler.compileOptimised(g, a.fusionReport(), target, options));
        return precompile(new CompiledModel(src, target, 1), inputsOf(a.graph()));
    }

    /** Compiles each list of input shapes now; closes the model if one fails. */
    private static CompiledModel precompile(CompiledModel m, List<Shape[]> specialisations) {
        try {
            for (Shape[] shapes : specialisations) m.specialise(shapes);
            return m;
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    private static List<Shape[]> each(Shape... shapes) { return Arrays.stream(shapes).map(s -> new Shape[]{s}).toList(); }

    private static List<Shape[]> inputsOf(Graph g) {
        return List.<Shape[]>of(g.inputs().stream().map(v -> v.type().shape()).toArray(Shape[]::new));
    }
}
