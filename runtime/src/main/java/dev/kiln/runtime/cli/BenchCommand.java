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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    @Option(names = "--iterations", defaultValue = "300", paramLabel = "N", description = "calls to time, the first included (default: ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "T", description = "threads calling the model at once (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--backend", paramLabel = "cpu|opencl", description = "refuse the artifact unless it was compiled for this backend")
    String backend;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true", description = "show a progress bar on long runs (default: on)")
    boolean progress;

    @Override public Integer call() throws InterruptedException {
        if (iterations < 2) throw NamedArgs.usage(spec, "--iterations must be at least 2, got " + iterations);
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
            out.printf("load (verify, regenerate kernels): %.1f ms; %d calls on %d thread%s%n", loadMs, iterations, threads, threads == 1 ? "" : "s");
            out.flush();
            long[][] calls = measure(m, inputs);
            report(out, BenchStats.of(calls[0], calls[1]));
        }
        return KilnCli.OK;
    }

    /** [starts, durations] in ns, sorted by start: the first call alone, then the rest on the threads. */
    private long[][] measure(CompiledModel m, Map<String, HostTensor> inputs) throws InterruptedException {
        long[] start = new long[iterations], duration = new long[iterations];
        AtomicInteger next = new AtomicInteger(1);
        start[0] = System.nanoTime();
        m.run(inputs);
        duration[0] = System.nanoTime() - start[0];
        try (ProgressBar bar = progress ? new ProgressBar(spec.commandLine().getErr(), "bench", iterations, next::get) : null;
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++)
                workers.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < iterations; i = next.getAndIncrement()) {
                        long s = System.nanoTime();
                        m.run(inputs);
                        duration[i] = System.nanoTime() - s;
                        start[i] = s;
                    }
                }));
            for (Future<?> w : workers) {
                try {
                    w.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                }
            }
        }
        Integer[] order = new Integer[iterations];
        for (int i = 0; i < iterations; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingLong(i -> start[i]));
        long[][] sorted = new long[2][iterations];
        for (int i = 0; i < iterations; i++) { sorted[0][i] = start[order[i]]; sorted[1][i] = duration[order[i]]; }
        return sorted;
    }

    private void report(PrintWriter out, BenchStats s) {
        out.printf("first call: %.3f ms%n", s.firstCallMs());
        if (s.reachedSteady())
            out.printf("warm-up: within 10%% of steady state (%.3f ms, the median of the last %d calls) after %d call%s and %.1f ms%n",
                    s.steadyMs(), s.steadyWindow(), s.warmUpCalls(), s.warmUpCalls() == 1 ? "" : "s", s.warmUpMs());
        else
            out.printf("warm-up: not within 10%% of steady state (%.3f ms, the median of the last %d calls) in %d calls; try more --iterations%n",
                    s.steadyMs(), s.steadyWindow(), s.calls());
        BenchStats.Percentiles p = s.latency();
        out.printf("latency over the %d calls after warm-up: min %.3f  median %.3f  p90 %.3f  p99 %.3f  max %.3f ms%n",
                p.count(), p.min(), p.median(), p.p90(), p.p99(), p.max());
        out.printf("throughput: %.1f calls/s with %d thread%s%n", s.callsPerSecond(), threads, threads == 1 ? "" : "s");
    }
}
