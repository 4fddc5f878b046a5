package dev.kiln.runtime.cli;

import dev.kiln.runtime.Artifact;

import dev.kiln.ir.MemoryPlan;
import dev.kiln.passes.Pass;
import dev.kiln.passes.Passes;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Specialisation;
import dev.kiln.runtime.Target;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code kiln compile MODEL -o OUT.kiln}: trace or import, optimise, generate code, save the artifact. */
@Command(name = "compile", mixinStandardHelpOptions = true, description = "Compile a model into a .kiln artifact.")
final class CompileCommand implements Callable<Integer> {
    @ParentCommand KilnCli root;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "a .java file declaring a DSL model, a built-in model name or DSL class, or a .onnx file")
    String model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.kiln", description = "the artifact to write")
    Path output;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|opencl", description = "target backend (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--input-shape", paramLabel = "NAME=DIMS", description = "an input's shape, e.g. x=1x3x224x224 (repeatable)")
    List<String> inputShapes;

    @Option(names = "--weights", paramLabel = "FILE.safetensors", description = "weights by state_dict name")
    Path weights;

    @Option(names = "--dump-ir-after", split = ",", paramLabel = "PASS|all", description = "print the IR after these passes")
    List<String> dumpIrAfter;

    @Option(names = "--dump-code", paramLabel = "DIR", description = "write the generated code (bytecode text or OpenCL C) into DIR")
    Path dumpCode;

    @Option(names = "--tune", description = "opencl: time the GEMM tiles on the device and keep the fastest (cached beside the program cache)")
    boolean tune;

    @Override public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Target target = root.target(spec, backend);
        if (dumpCode != null) target = target.withOption("dump-code", dumpCode.toString());
        if (tune && !backend.equals("opencl")) throw NamedArgs.usage(spec, "--tune: only the opencl backend has tunable kernels");
        if (tune) target = target.withOption("tune", "on");
        CompileOptions options = CompileOptions.defaults();
        Set<String> dumps = dumpPasses();
        if (!dumps.isEmpty()) options = options.dumpingIrAfter(dumps, (pass, ir) -> out.print("// IR after " + pass + "\n" + ir));
        if (weights != null && !Files.isRegularFile(weights)) throw new dev.kiln.ir.KilnException("weights " + weights + ": no such file");

        ModelResolver.Resolved resolved = ModelResolver.resolve(spec, model, NamedArgs.shapes(spec, inputShapes), weights);
        long t0 = System.nanoTime();
        try (CompiledModel m = switch (resolved) {
            case ModelResolver.Dsl d -> Kiln.compile(d.module(), target, options.withInputName(d.inputName()), d.inputShape());
            case ModelResolver.Imported i -> Kiln.compile(i.graph(), target, options);
            case ModelResolver.OnnxFile f -> Kiln.compileOnnx(f.file(), target, options, f.shapes());
        }) {
            Specialisation s = m.primary();
            m.save(output);
            int before = s.passStats().isEmpty() ? s.graph().nodes().size() : s.passStats().getFirst().nodesBefore();
            out.printf("compiled %s for %s in %.0f ms: %d -> %d nodes, %d fusions, arena %s%n", resolved.description(),
                    target.backendName(), (System.nanoTime() - t0) / 1e6, before, s.graph().nodes().size(),
                    s.fusionReport().map(r -> r.fused().size()).orElse(0), MemoryPlan.bytes(s.memoryPlan().peakBytes()));
            out.printf("signature %s%n", s.signature());
            if (m.acceptsOtherShapes() && !m.declaredDims().isEmpty())
                out.printf("symbolic dimensions %s: other shapes compile on first use (the artifact keeps the ONNX model)%n",
                        Artifact.describeSymbolic(m.declaredDims()));
            if (dumpCode != null) out.printf("generated code in %s%n", dumpCode);
            out.printf("wrote %s (%s)%n", output, MemoryPlan.bytes(Files.size(output)));
        }
        return KilnCli.OK;
    }

    private Set<String> dumpPasses() {
        Set<String> out = new LinkedHashSet<>();
        if (dumpIrAfter == null) return out;
        List<String> known = Passes.all().stream().map(Pass::name).toList();
        for (String p : dumpIrAfter) {
            if (!p.equals("all") && !known.contains(p))
                throw NamedArgs.usage(spec, "--dump-ir-after: unknown pass '" + p + "'; the passes are " + known + " or all");
            out.add(p);
        }
        return out;
    }
}
