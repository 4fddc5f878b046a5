package dev.kiln.runtime.cli;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Backend;
import dev.kiln.ir.BackendUnavailableException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.passes.PassManager;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Kiln's main job on the built-in target models: compile each for every backend available here,
 * run it, and print the fusion report, the agreement with the reference interpreter and the
 * latency. Fails (exit 1) if a result disagrees with the reference or a compilation breaks;
 * an op a backend does not lower yet is reported and skipped.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Compile the built-in target models on each backend, run them and check them against the reference interpreter.")
final class DemoCommand implements Callable<Integer> {
    static final String NO_OPENCL = "OpenCL: no platform found (install ocl-icd-libopencl1 pocl-opencl-icd)";
    static final double TOLERANCE = 1e-4;

    @ParentCommand KilnCli root;
    @Spec CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "MODEL", description = "built-in models to run (default: all)")
    List<String> models;

    @Option(names = "--backend", paramLabel = "cpu|opencl", description = "only this backend (default: every available one)")
    String backend;

    @Option(names = "--time-ms", defaultValue = "3000", paramLabel = "MS",
            description = "at most how long to keep calling each model after its first call, to see past the JIT's warm-up; "
                    + "it stops sooner once latency is steady (default: ${DEFAULT-VALUE})")
    int timeMs;

    @Option(names = "--ir", negatable = true, defaultValue = "false", fallbackValue = "true", description = "print each model's optimised IR (default: off)")
    boolean printIr;

    private int ran, skipped;
    private final List<String> failures = new ArrayList<>();

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (timeMs < 0) throw NamedArgs.usage(spec, "--time-ms must not be negative, got " + timeMs);
        List<Examples.Example> examples = examples();
        List<Target> targets = targets(out);
        for (Examples.Example ex : examples) {
            Graph g = Tracer.trace(ex.model().get(), "x", ex.inputShape());
            HostTensor x = HostTensor.normal(ex.inputShape(), 7);
            HostTensor expected = ReferenceInterpreter.run(g, x);
            PassManager.Result opt = PassManager.defaults().run(g);
            out.printf("%n== %s: %s, input %s -> output %s%n", ex.name(), ex.description(), ex.inputShape(), expected.shape());
            out.printf("   passes: %d -> %d nodes%n", g.nodes().size(), opt.graph().nodes().size());
            out.print(opt.report().toString().indent(3));
            out.print(opt.memoryPlan().toString().lines().findFirst().orElse("").indent(3));
            for (Target t : targets) runOn(out, ex, t, x, expected);
            if (printIr) out.print(IrPrinter.print(opt.graph()).indent(3));
            out.flush();
        }
        out.printf("%ndemo: %d model runs agree with the reference interpreter (rel. L2 error < %.0e), %d skipped, %d failed%n",
                ran, TOLERANCE, skipped, failures.size());
        for (String f : failures) out.println("   failed: " + f);
        return failures.isEmpty() ? KilnCli.OK : KilnCli.FAILURE;
    }

    private List<Examples.Example> examples() {
        if (models == null || models.isEmpty()) return Examples.all();
        List<String> known = Examples.all().stream().map(Examples.Example::name).toList();
        for (String m : models) if (!known.contains(m)) throw NamedArgs.usage(spec, "no built-in model '" + m + "'; known: " + known);
        return models.stream().map(Examples::byName).toList();
    }

    /** The backends to demonstrate, saying which are missing here. */
    private List<Target> targets(PrintWriter out) {
        List<Target> targets = new ArrayList<>();
        if (backend != null) {
            Target t = root.target(spec, backend);
            if (!t.backend().isAvailable())
                throw new BackendUnavailableException(backend.equals("opencl") ? NO_OPENCL : t.backend().unavailability().orElseThrow());
            targets.add(t);
            return targets;
        }
        List<Backend> all = new ArrayList<>(root.backends().all());
        all.sort(Comparator.comparing((Backend b) -> !b.name().equals("cpu")).thenComparing(Backend::name));
        for (Backend b : all) {
            if (b.isAvailable()) targets.add(Target.of(b));
            else out.println(b.name().equals("opencl") ? NO_OPENCL : b.unavailability().orElseThrow() + " (skipped)");
        }
        out.println("backends: " + targets.stream().map(Target::backendName).toList());
        return targets;
    }

    /**
     * The model's calls after its first, until half a second of them after warm-up is measured or
     * the time budget runs out (null with a budget of 0). The CPU backend's kernels run interpreted
     * until C2 compiles them, so the first calls can be hundreds of times slower than the steady
     * state; a fixed count would report warm-up as the model's speed.
     */
    private CallLoop.Calls callFor(CompiledModel m, HostTensor x) {
        if (timeMs == 0) return null;
        try {
            return CallLoop.run(() -> m.run(x), 1, CallLoop.Until.steadyFor(Math.min(0.5, timeMs / 1e3), timeMs / 1e3), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KilnException("interrupted while timing " + m.target().backendName());
        }
    }

    private void runOn(PrintWriter out, Examples.Example ex, Target t, HostTensor x, HostTensor expected) {
        String where = ex.name() + " on " + t.backendName();
        long t0 = System.nanoTime();
        try (CompiledModel m = Kiln.compile(ex.model().get(), t, ex.inputShape())) {
            double compileMs = (System.nanoTime() - t0) / 1e6;
            long c0 = System.nanoTime();
            HostTensor y = m.run(x);
            double firstMs = (System.nanoTime() - c0) / 1e6;
            CallLoop.Calls calls = callFor(m, x);
            BenchStats s = calls == null ? null : calls.stats();
            double err = y.relativeL2Error(expected);
            boolean ok = err < TOLERANCE;
            String later = s == null ? "" : !calls.timedOut()
                    ? String.format("   steady median %8.3f ms (%d calls after a %d-call warm-up)", s.latency().median(), s.latency().count(), s.warmUpCalls())
                    : String.format("   still warming up: median %8.3f ms of the last %d of %d calls (kiln bench measures longer)",
                            s.steadyMs(), s.steadyWindow(), s.calls());
            out.printf("   %-7s compile %7.1f ms   first call %8.2f ms%s   vs reference: rel. L2 %.1e  %s%n",
                    t.backendName(), compileMs, firstMs, later, err, ok ? "ok" : "MISMATCH");
            // the report printed above is the default pipeline's; a backend that declines a fusion runs without it
            m.fusionReport().ifPresent(r -> r.declined().forEach(d -> out.printf("   %-7s %s%n", "", d)));
            if (ok) ran++;
            else failures.add(where + ": rel. L2 error " + err + " exceeds " + TOLERANCE);
        } catch (UnsupportedOpException | BackendUnavailableException e) {
            skipped++;
            out.printf("   %-7s skipped: %s%n", t.backendName(), KilnCli.describe(e));
        } catch (KilnException e) {
            failures.add(where + ": " + KilnCli.describe(e));
            out.printf("   %-7s FAILED: %s%n", t.backendName(), KilnCli.describe(e));
        }
    }
}
