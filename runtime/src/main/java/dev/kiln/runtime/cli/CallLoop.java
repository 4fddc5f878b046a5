package dev.kiln.runtime.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Calls a model again and again and records when each call started and how long it took, for
 * {@code kiln bench} and {@code kiln demo}. Either a fixed number of calls, or — the default —
 * until the calls after warm-up ({@link BenchStats}) have run for a given time, the way JMH and
 * ONNX Runtime's perf tool measure: a fixed count ends wherever the JIT happens to be, which on a
 * model that warms up slowly reports a warm-up figure as the steady state.
 *
 * <p>The first call runs alone (it is the cold-start figure); the rest run on {@code threads}
 * concurrent callers.
 */
final class CallLoop {
    private CallLoop() {}

    /** When to stop: after {@code count} calls, or (count 0) {@code seconds} after warm-up, within {@code budgetSeconds} in all. */
    record Until(int count, double seconds, double budgetSeconds) {
        static Until calls(int count) { return new Until(count, 0, Double.POSITIVE_INFINITY); }
        static Until steadyFor(double seconds, double budgetSeconds) { return new Until(0, seconds, budgetSeconds); }
    }

    /**
     * Starts and durations in ns, sorted by start; the first entry is the first call ever made.
     * {@code timedOut}: a time-based run spent its budget before measuring long enough after warm-up.
     */
    record Calls(long[] startNs, long[] durationNs, boolean timedOut) {
        int count() { return durationNs.length; }
        BenchStats stats() { return BenchStats.of(startNs, durationNs); }
    }

    /** The most calls a time-based run records (16 bytes each); a model that fast is steady long before. */
    static final int MAX_CALLS = 1 << 20;
    /** How often a time-based run looks at its calls: rarely enough to cost the measured calls < 1 %. */
    private static final long CHECK_EVERY_MS = 250;

    /** Runs the calls; {@code done} (may be null) is told how many have been claimed, for a progress bar. */
    static Calls run(Runnable call, int threads, Until until, AtomicInteger done) throws InterruptedException {
        int capacity = until.count() > 0 ? until.count() : MAX_CALLS;
        AtomicLongArray start = new AtomicLongArray(capacity), duration = new AtomicLongArray(capacity);
        AtomicInteger next = done != null ? done : new AtomicInteger();
        next.set(1);
        AtomicBoolean stop = new AtomicBoolean(), timedOut = new AtomicBoolean();
        long checkMs = Math.max(1, Math.min(CHECK_EVERY_MS, (long) (until.budgetSeconds() * 100)));
        long t0 = System.nanoTime();
        time(call, start, duration, 0);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++)
                workers.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < capacity && !stop.get(); i = next.getAndIncrement())
                        time(call, start, duration, i);
                    return null;
                }));
            if (until.count() == 0) {
                while (!allDone(workers)) {
                    Thread.sleep(checkMs);
                    Verdict v = verdict(snapshot(start, duration, Math.min(next.get(), capacity), false, false), until, t0);
                    if (v != Verdict.GO_ON) { timedOut.set(v == Verdict.OUT_OF_TIME); stop.set(true); break; }
                }
            }
            for (Future<?> w : workers) {
                try {
                    w.get();
                } catch (ExecutionException e) {
                    stop.set(true);
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                }
            }
        }
        return snapshot(start, duration, Math.min(next.get(), capacity), true, timedOut.get());
    }

    private static void time(Runnable call, AtomicLongArray start, AtomicLongArray duration, int i) {
        long s = System.nanoTime();
        call.run();
        long d = Math.max(1, System.nanoTime() - s);
        start.set(i, s);
        duration.set(i, d);            // written last: a non-zero duration marks a finished call
    }

    private static boolean allDone(List<Future<?>> workers) { return workers.stream().allMatch(Future::isDone); }

    enum Verdict { GO_ON, STEADY_LONG_ENOUGH, OUT_OF_TIME }

    /** Whether a time-based run has measured long enough after warm-up (at least 20 calls), or spent its budget. */
    static Verdict verdict(Calls c, Until until, long t0) {
        if (c.count() < 2) return Verdict.GO_ON;
        long last = c.startNs()[c.count() - 1] + c.durationNs()[c.count() - 1];
        BenchStats s = c.stats();
        if (s.reachedSteady() && s.latency().count() >= 20 && (last - c.startNs()[s.warmUpCalls()]) / 1e9 >= until.seconds())
            return Verdict.STEADY_LONG_ENOUGH;
        return (last - t0) / 1e9 >= until.budgetSeconds() ? Verdict.OUT_OF_TIME : Verdict.GO_ON;
    }

    /**
     * The finished calls among the first {@code claimed}; sorted by start when asked (claims are
     * made in time order, so the index order is close enough for the stop check).
     */
    private static Calls snapshot(AtomicLongArray start, AtomicLongArray duration, int claimed, boolean sort, boolean timedOut) {
        List<long[]> done = new ArrayList<>(claimed);
        for (int i = 0; i < claimed; i++) {
            long d = duration.get(i);
            if (d != 0) done.add(new long[]{start.get(i), d});
        }
        if (sort) done.sort(Comparator.comparingLong(a -> a[0]));
        long[] s = new long[done.size()], d = new long[done.size()];
        for (int i = 0; i < s.length; i++) { s[i] = done.get(i)[0]; d[i] = done.get(i)[1]; }
        return new Calls(s, d, timedOut);
    }
}
