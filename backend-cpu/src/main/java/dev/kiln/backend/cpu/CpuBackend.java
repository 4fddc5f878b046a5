package dev.kiln.backend.cpu;

import dev.kiln.ir.Backend;
import dev.kiln.ir.BackendUnavailableException;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Node;
import dev.kiln.ir.Verifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CPU backend: each node is lowered to kernels specialised from Vector API templates
 * (shapes as constants) and loaded as hidden classes. Options: "threads" (default: available
 * processors), "dump-code" (a directory: each kernel's bytecode as text, named after its node),
 * "conv" (auto, direct, im2col or winograd: how dense convolutions are lowered; auto picks per conv,
 * winograd takes every dense 3×3 stride-1 conv it can and leaves the rest to auto). Any
 * other key is an error.
 */
public final class CpuBackend implements Backend {
    @Override public String name() { return "cpu"; }

    /** What a JVM started without the incubator module is told, before any kernel is generated. */
    static final String NO_VECTOR_API = "the cpu backend needs the Vector API, which this JVM was started without:"
            + " add the JVM option --add-modules jdk.incubator.vector (and run on JDK 25)";

    /** Whether jdk.incubator.vector is in this JVM; without it the generated kernels would fail mid-run with NoClassDefFoundError. */
    @Override public boolean isAvailable() { return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(); }

    @Override public Optional<String> unavailability() { return isAvailable() ? Optional.empty() : Optional.of(NO_VECTOR_API); }

    @Override public List<String> facts() {
        List<String> facts = new ArrayList<>();
        if (isAvailable()) facts.add(VectorFacts.describe());
        facts.add("JIT: " + JitFacts.describe());
        facts.add("threads: " + Runtime.getRuntime().availableProcessors() + " (the default of option threads)");
        return facts;
    }

    /** Every option compile reads. */
    static final List<String> OPTIONS = List.of("threads", "dump-code", "conv");

    @Override public Executable compile(Graph g, Map<String, String> options) {
        Backend.requireKnownOptions(name(), options, OPTIONS);
        if (!isAvailable()) throw new BackendUnavailableException(NO_VECTOR_API);
        Verifier.verify(g);
        int threads = threads(options);
        // lowered twice: once to learn each node's scratch, then into the plan that places it (specialising only then)
        LoweringContext sizing = LoweringContext.sizing(g, MemoryPlan.plan(g), convMode(options));
        lowerAll(sizing);
        LoweringContext ctx = new LoweringContext(g, MemoryPlan.plan(g, sizing.scratchBytes()), convMode(options));
        lowerAll(ctx);
        CpuExecutable exe = new CpuExecutable(g, ctx, new ParallelFor(threads), true);
        String dump = options.get("dump-code");
        if (dump != null) dump(exe, Path.of(dump));
        return exe;
    }

    private static void lowerAll(LoweringContext ctx) {
        for (Node n : ctx.graph.nodes()) {
            ctx.beginNode(n);
            Lowering.lower(ctx, n);
        }
        ctx.beginNode(null);
    }

    private static int threads(Map<String, String> options) {
        String t = options.getOrDefault("threads", "");
        if (t.isEmpty()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(t);
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new KilnException("option threads must be a positive integer, got '" + t + "'");
        }
    }

    private static String convMode(Map<String, String> options) {
        String m = options.getOrDefault("conv", "auto");
        if (!m.equals("auto") && !m.equals("direct") && !m.equals("im2col") && !m.equals("winograd"))
            throw new KilnException("option conv must be auto, direct, im2col or winograd, got '" + m + "'");
        return m;
    }

    private static void dump(CpuExecutable exe, Path dir) {
        try {
            Files.createDirectories(dir);
            int i = 0;
            for (Step s : exe.steps()) {
                if (!(s instanceof Step.KernelStep k)) continue;
                String file = String.format("%03d_%s.txt", i++, k.name().replaceAll("[^A-Za-z0-9_.-]+", "_"));
                Files.writeString(dir.resolve(file), "// " + k.name() + "\n" + k.code().text());
            }
        } catch (IOException e) {
            throw new KilnException("cannot write generated code to " + dir + ": " + e.getMessage(), e);
        }
    }
}
