package dev.kiln.runtime.cli;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.models.Examples;
import dev.kiln.frontend.onnx.OnnxImporter;
import dev.kiln.frontend.weights.Weights;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code kiln compile MODEL} compiles: a {@code .java} file declaring a DSL model, a
 * {@code .onnx} file, a built-in model name ({@link Examples}), or a DSL class on the class path
 * (fully qualified, or the simple name of a class in {@code dev.kiln.frontend.models}).
 */
final class ModelResolver {
    private ModelResolver() {}

    /** A model ready to compile: a DSL module traced on one input, or an imported graph with fixed shapes. */
    sealed interface Resolved {
        String description();
    }

    record Dsl(Module module, String inputName, Shape inputShape, String description) implements Resolved {}

    record Imported(Graph graph, String description) implements Resolved {}

    /** An ONNX file compiled as it is: a dynamic batch axis stays dynamic (see {@link dev.kiln.runtime.Kiln#compileOnnx}). */
    record OnnxFile(Path file, Map<String, Shape> shapes, String description) implements Resolved {}

    static Resolved resolve(CommandSpec cmd, String model, Map<String, Shape> shapes, Path weights) {
        if (model.endsWith(".onnx")) return onnx(Path.of(model), shapes, weights);
        Module module;
        Shape defaultShape = null;
        String description;
        if (model.endsWith(".java")) {
            module = JavaSourceModel.load(Path.of(model));
            description = module.getClass().getSimpleName() + " from " + model;
        } else {
            Examples.Example ex = Examples.all().stream().filter(e -> e.name().equals(model)).findFirst().orElse(null);
            if (ex != null) {
                module = ex.model().get();
                defaultShape = ex.inputShape();
                description = ex.name() + " (" + ex.description() + ")";
            } else {
                module = JavaSourceModel.instantiate(model, dslClass(cmd, model));
                description = module.getClass().getName();
            }
        }
        if (weights != null) module.load(Weights.safetensors(weights));
        if (shapes.size() > 1) throw NamedArgs.usage(cmd, "a DSL model has one input, but --input-shape names " + shapes.keySet());
        if (shapes.isEmpty() && defaultShape == null)
            throw NamedArgs.usage(cmd, "model " + model + " needs its input shape: --input-shape x=DIMS (e.g. x=1x3x224x224)");
        String name = shapes.isEmpty() ? "x" : shapes.keySet().iterator().next();
        return new Dsl(module, name, shapes.isEmpty() ? defaultShape : shapes.get(name), description);
    }

    private static Resolved onnx(Path file, Map<String, Shape> shapes, Path weights) {
        if (!Files.isRegularFile(file)) throw new KilnException(file + ": no such file");
        if (weights == null) return new OnnxFile(file, shapes, file.getFileName().toString().replaceFirst("\\.onnx$", "") + " from " + file);
        Graph g = OnnxImporter.load(file, shapes);
        if (weights != null) g = g.withWeights(Weights.safetensors(weights));
        return new Imported(g, g.name() + " from " + file);
    }

    private static Class<?> dslClass(CommandSpec cmd, String name) {
        ClassLoader loader = ModelResolver.class.getClassLoader();
        for (String candidate : new String[]{name, "dev.kiln.frontend.models." + name}) {
            try {
                Class<?> c = Class.forName(candidate, false, loader);
                if (!Module.class.isAssignableFrom(c))
                    throw NamedArgs.usage(cmd, "class " + c.getName() + " is not a DSL model (a subclass of dev.kiln.frontend.Module)");
                return c;
            } catch (ClassNotFoundException | LinkageError e) {
                // try the next spelling
            }
        }
        throw NamedArgs.usage(cmd, "no model '" + name + "': not a .java or .onnx file, a built-in model "
                + Examples.all().stream().map(Examples.Example::name).toList() + " or a DSL class on the class path");
    }
}
