package dev.kiln.runtime.cli;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.runtime.Artifact;
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
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code kiln bench OUT.kiln}: times every call of a freshly loaded artifact in this JVM, so the
 * numbers include what a user pays while the JIT warms up (see {@link BenchStats}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure a .kiln artifact: warm-up curve, latency percentiles, throughput.")
final class BenchCommand implements Callable<Integer> {
    @ParentCommand KilnCli root;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.kiln", description = "the artifact")
    Path artifact;

    @Option(names = "--iterations", paramLabel = "N", description = "time exactly N calls, the first included (default: time-based, see --seconds)")
    Integer iterations;

    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S",
            description = "without --iterations: call until S seconds of calls after warm-up are measured, at most "
                    + (int) BUDGET_SECONDS + " s in all (default: ${DEFAULT-VALUE})")
    double seconds;

    /** A time-based run that has not reached steady state by then reports what it has. */
    static final double BUDGET_SECONDS = 60;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "T", description = "threads calling the model at once (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--backend", paramLabel = "cpu|opencl", description = "refuse the artifact unless it was compiled for this backend")
    String backend;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true", description = "show a progress bar on long runs (default: on)")
    boolean progress;

    @Option(names = "--warm-up", description = "call CompiledModel.warmUp() before the first timed call (its time is reported apart)")
    boolean warmUp;

    @Override public Integer call() throws InterruptedException {
        if (iterations != null && iterations < 2) throw NamedArgs.usage(spec, "--iterations must be at least 2, got " + iterations);
        if (!(seconds > 0 && seconds <= BUDGET_SECONDS)) throw NamedArgs.usage(spec, "--seconds must be in (0, " + (int) BUDGET_SECONDS + "], got " + seconds);
        if (threads < 1) throw NamedArgs.usage(spec, "--threads must be at least 1, got " + threads);
        Target target = backend == null ? null : root.target(spec, backend);
        PrintWriter out = spec.commandLine().getOut();
        Artifact a = Artifact.read(artifact);
        long t0 = System.nanoTime();
        try (CompiledModel m = target == null ? Kiln.load(a) : Kiln.load(a, target)) {
            double loadMs = (System.nanoTime() - t0) / 1e6;
            Map<String, HostTensor> inputs = new LinkedHashMap<>();
            int seed = 1;
            for (Graph.Value v : a.signature().inputs()) inputs.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
            out.printf("bench %s: @%s on %s, %s%n", artifact, a.graph().name(), m.target().backendName(), a.signature());
            out.printf("load (verify, regenerate kernels): %.1f ms; %s on %d thread%s%n", loadMs,
                    iterations != null ? iterations + " calls" : String.format("calls until %.1f s after warm-up", seconds), threads, threads == 1 ? "" : "s");
            if (warmUp) out.printf("warm-up (CompiledModel.warmUp()): %s%n", m.warmUp());
            out.flush();
            CallLoop.Until until = iterations != null ? CallLoop.Until.calls(iterations) : CallLoop.Until.steadyFor(seconds, BUDGET_SECONDS);
            AtomicInteger claimed = new AtomicInteger();
            CallLoop.Calls calls;
            try (ProgressBar bar = progress && iterations != null ? new ProgressBar(spec.commandLine().getErr(), "bench", iterations, claimed::get) : null) {
                calls = CallLoop.run(() -> m.run(inputs), threads, until, claimed);
            }
            report(out, calls.stats(), calls.timedOut());
        }
        return KilnCli.OK;
    }

    private void report(PrintWriter out, BenchStats s, boolean timedOut) {
        out.printf("first call: %.3f ms; %d calls%n", s.firstCallMs(), s.calls());
        if (timedOut)
            out.printf("warm-up: after %.0f s (the budget) latency has not stayed within 10%% of its recent median for %.1f s; the figures below are not a steady state%n",
                    BUDGET_SECONDS, seconds);
        if (s.reachedSteady())
            out.printf("warm-up: within 10%% of steady state (%.3f ms, the median of the last %d calls) after %d call%s and %.1f ms%n",
                    s.steadyMs(), s.steadyWindow(), s.warmUpCalls(), s.warmUpCalls() == 1 ? "" : "s", s.warmUpMs());
        else
            out.printf("warm-up: not within 10%% of steady state (%.3f ms, the median of the last %d calls) in %d calls; try more --iterations or --seconds%n",
                    s.steadyMs(), s.steadyWindow(), s.calls());
        BenchStats.Percentiles p = s.latency();
        out.printf("latency over the %d calls after warm-up: min %.3f  median %.3f  p90 %.3f  p99 %.3f  max %.3f ms%n",
                p.count(), p.min(), p.median(), p.p90(), p.p99(), p.max());
        out.printf("throughput: %.1f calls/s with %d thread%s%n", s.callsPerSecond(), threads, threads == 1 ? "" : "s");
    }
}
