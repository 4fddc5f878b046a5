package dev.kiln.runtime;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Drives an executable on scratch inputs until its kernels run as C2-compiled code, so that the
 * user's calls meet compiled code rather than the interpreter. There is no API to ask HotSpot to
 * compile a method, so the only way is to call it: a Vector API kernel that C2 has not compiled
 * runs boxed (every vector op allocates), 10–1000× slower than compiled.
 *
 * <p>When to stop: once a call allocates (almost) nothing beyond its outputs and its time has stopped
 * falling. A warm CPU executable's {@code runInto} allocates nothing (CpuTargetModelsTest counts
 * it), and only C2 scalar-replaces the boxed vectors; so bytes allocated per call are the direct
 * sign that some kernel still runs in the interpreter or C1. The timing check catches the rest
 * (an OSR-compiled loop whose method is not compiled yet, a backend that does not allocate at all).
 * A budget bounds it for a kernel that C2 never compiles (e.g. over the huge-method limit).
 *
 * <p>The scratch inputs are seeded normal values: loop trip counts are the real ones (shapes are
 * static), and no branch in a kernel depends on the values the way it would on, say, all zeros.
 * Warm-up calls are ordinary calls with their own working memory (a pooled call context), so they
 * change no result: the outputs of later calls are bit-identical to those without warm-up.
 */
public final class WarmUp {
    /** What a warm-up did: calls made, wall time, and whether it settled (false: it stopped at the budget or was cancelled). */
    public record Report(int calls, double millis, boolean settled, double lastCallMillis) {
        @Override public String toString() {
            return String.format("%d calls in %.0f ms (%s; last call %.3f ms)", calls, millis,
                    settled ? "settled" : "not settled: stopped at the budget or cancelled", lastCallMillis);
        }
    }

    /** Bytes per call below which the kernels count as compiled: a few small objects outside the kernels are fine. */
    static final long ALLOCATION_SLACK = 2048;
    /** Calls whose median must be within 10 % of the fastest call seen. */
    static final int WINDOW = 5;
    /** At least this many calls: the first few of a freshly compiled method are not yet representative. */
    static final int MIN_CALLS = 10;
    /** Default bound on a warm-up's wall time (15 s); property {@code kiln.warmup.budget.ms}, read at each warm-up, overrides it. */
    static long defaultBudgetMs() { return Long.getLong("kiln.warmup.budget.ms", 15_000); }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private WarmUp() {}

    /**
     * Calls exe on scratch inputs until settled, budgetMs passes or stop says so. {@code beforeCall}
     * runs before every call (the background warm-up waits there while the user is calling).
     */
    static Report run(Executable exe, Graph graph, long budgetMs, BooleanSupplier stop, Runnable beforeCall) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        long seed = 0x5eed;
        for (Graph.Value v : graph.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        // run, not runInto: the path a user's call takes, so C2 has compiled that too; it allocates the outputs
        long slack = ALLOCATION_SLACK;
        for (String o : graph.outputs()) slack += 4L * graph.typeOf(o).shape().elementCount() + 64;
        long t0 = System.nanoTime(), deadline = t0 + budgetMs * 1_000_000L;
        double[] recent = new double[WINDOW];
        double fastest = Double.POSITIVE_INFINITY, last = 0;
        int calls = 0;
        while (true) {
            if (stop.getAsBoolean()) return new Report(calls, (System.nanoTime() - t0) / 1e6, false, last);
            beforeCall.run();
            if (stop.getAsBoolean()) return new Report(calls, (System.nanoTime() - t0) / 1e6, false, last);
            long b0 = allocated(), s = System.nanoTime();
            exe.run(in);
            long e = System.nanoTime();
            long bytes = allocated() - b0;
            last = (e - s) / 1e6;
            recent[calls % WINDOW] = last;
            fastest = Math.min(fastest, last);
            calls++;
            if (calls >= MIN_CALLS && bytes <= slack && median(recent) <= 1.10 * fastest)
                return new Report(calls, (e - t0) / 1e6, true, last);
            if (e >= deadline) return new Report(calls, (e - t0) / 1e6, false, last);
        }
    }

    /** Heap bytes allocated by every live thread: the pool's workers run parts of each call. */
    private static long allocated() {
        try {
            return THREADS.getTotalThreadAllocatedBytes();
        } catch (UnsupportedOperationException e) {
            return 0;       // no allocation figure on this JVM: the timing check alone decides
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
