package dev.kiln.runtime.cli;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Signature;
import dev.kiln.runtime.Target;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln run OUT.kiln --input x.npy [--output y.npy]}: load an artifact, run it once on .npy inputs. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a .kiln artifact on .npy inputs.")
final class RunCommand implements Callable<Integer> {
    @ParentCommand KilnCli root;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.kiln", description = "the artifact")
    Path artifact;

    @Option(names = "--input", required = true, paramLabel = "[NAME=]FILE.npy",
            description = "an input (unnamed when the model has one input; repeatable)")
    List<String> inputs;

    @Option(names = "--output", paramLabel = "[NAME=]FILE.npy",
            description = "write an output (unnamed: the first output; repeatable); without it, outputs are summarised")
    List<String> outputs;

    @Option(names = "--backend", paramLabel = "cpu|opencl", description = "refuse the artifact unless it was compiled for this backend")
    String backend;

    @Option(names = "--kernels", description = "run the backend's kernels even though they are cold; by default one call is "
            + "answered by the reference interpreter while the kernels are generated in the background (faster for a single call)")
    boolean kernels;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Target target = backend == null ? null : root.target(spec, backend);
        Artifact a = Artifact.read(artifact);
        Signature sig = a.signature();
        Map<String, Path> inputFiles = inputFiles(sig);
        Map<String, Path> outputFiles = outputFiles(sig);
        Map<String, HostTensor> in = new LinkedHashMap<>();
        Map<String, List<String>> declared = a.declaredDims();
        for (Graph.Value v : sig.inputs()) in.put(v.name(), NpyInput.read(v.name(), inputFiles.get(v.name()), v.type(), declared.get(v.name())));
        CompileOptions options = CompileOptions.defaults().interpretingFirstCalls(!kernels);
        try (CompiledModel m = backend == null ? Kiln.load(a, options) : Kiln.load(a, target, options)) {
            long t0 = System.nanoTime();
            Map<String, HostTensor> result = m.run(in);
            double ms = (System.nanoTime() - t0) / 1e6;
            boolean ranKernels = m.runsKernels();
            for (var e : result.entrySet()) {
                Path file = outputFiles.get(e.getKey());
                if (file != null) {
                    Npy.write(file, e.getValue());
                    out.printf("wrote output '%s' %s to %s%n", e.getKey(), e.getValue().type(), file);
                } else if (outputFiles.isEmpty()) out.printf("output '%s' %s: %s%n", e.getKey(), e.getValue().type(), head(e.getValue()));
            }
            if (ranKernels) out.printf("ran on %s in %.2f ms (one cold call: includes the JIT's warm-up; see kiln bench)%n", m.target().backendName(), ms);
            else out.printf("ran in %.2f ms by the reference interpreter while the %s kernels were generated (--kernels runs them, cold; see kiln bench)%n",
                    ms, m.target().backendName());
        }
        return KilnCli.OK;
    }

    private Map<String, Path> inputFiles(Signature sig) {
        List<String> names = sig.inputNames();
        Map<String, Path> files = new LinkedHashMap<>();
        for (String arg : inputs) {
            NamedArgs.Named a = NamedArgs.file(arg);
            String name = a.name();
            if (name == null) {
                if (names.size() != 1)
                    throw NamedArgs.usage(spec, "the model has inputs " + names + ": name each one, --input NAME=FILE.npy");
                name = names.getFirst();
            } else if (!names.contains(name)) throw NamedArgs.usage(spec, "unknown input '" + name + "'; the model's inputs are " + names);
            if (files.put(name, Path.of(a.value())) != null) throw NamedArgs.usage(spec, "input '" + name + "' is given twice");
        }
        for (Graph.Value v : sig.inputs())
            if (!files.containsKey(v.name()))
                throw NamedArgs.usage(spec, "missing input '" + v.name() + "' (expected " + v.type() + "): add --input " + v.name() + "=FILE.npy");
        return files;
    }

    private Map<String, Path> outputFiles(Signature sig) {
        List<String> names = sig.outputNames();
        Map<String, Path> files = new LinkedHashMap<>();
        if (outputs == null) return files;
        for (String arg : outputs) {
            NamedArgs.Named a = NamedArgs.file(arg);
            String name = a.name() == null ? names.getFirst() : a.name();
            if (!names.contains(name)) throw NamedArgs.usage(spec, "unknown output '" + name + "'; the model's outputs are " + names);
            if (files.put(name, Path.of(a.value())) != null) throw NamedArgs.usage(spec, "output '" + name + "' is given twice");
        }
        return files;
    }

    static String head(HostTensor t) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < Math.min(6, t.size()); i++) b.append(i > 0 ? ", " : "").append(String.format("%.6g", t.data()[i]));
        return b.append(t.size() > 6 ? ", ... (" + t.size() + " values)]" : "]").toString();
    }
}
