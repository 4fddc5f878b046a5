package dev.kiln.runtime.cli;

import java.util.Arrays;

/**
 * What {@code kiln bench} reports from measured calls, ordered by start time: the warm-up curve
 * (the first call, then how many calls and how much wall time until latency stays within 10 %
 * of steady state), latency percentiles over the calls after that, and throughput.
 *
 * <p>Steady state is the median latency of the last quarter of the calls. Warm-up ends at the
 * first call from which the median of a short window (5 calls, fewer on short runs) is within
 * 10 % of it; the window keeps one lucky fast call from ending it early.
 */
record BenchStats(int calls, double firstCallMs, double steadyMs, int steadyWindow, boolean reachedSteady,
                  int warmUpCalls, double warmUpMs, Percentiles latency, double callsPerSecond) {

    record Percentiles(int count, double min, double median, double p90, double p99, double max) {}

    static final double TOLERANCE = 0.10;

    /** startNs and durationNs per call, sorted by start; the first is the first call ever made. */
    static BenchStats of(long[] startNs, long[] durationNs) {
        int n = durationNs.length;
        if (n < 2) throw new IllegalArgumentException("need at least 2 calls, got " + n);
        int tail = Math.max(1, n / 4);
        double steady = median(ms(durationNs, n - tail, n));
        int w = Math.max(1, Math.min(5, n / 10));
        int k = -1;
        for (int i = 0; i + w <= n; i++) {
            if (median(ms(durationNs, i, i + w)) <= steady * (1 + TOLERANCE)) { k = i; break; }
        }
        boolean reached = k >= 0;
        int from = reached ? k : n - tail;
        double[] after = ms(durationNs, from, n);
        long end = 0;
        for (int i = from; i < n; i++) end = Math.max(end, startNs[i] + durationNs[i]);
        double wallSeconds = (end - startNs[from]) / 1e9;
        return new BenchStats(n, durationNs[0] / 1e6, steady, tail, reached, reached ? k : n, (startNs[from] - startNs[0]) / 1e6,
                percentiles(after), wallSeconds > 0 ? (n - from) / wallSeconds : Double.NaN);
    }

    static Percentiles percentiles(double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        return new Percentiles(s.length, s[0], quantile(s, 0.5), quantile(s, 0.9), quantile(s, 0.99), s[s.length - 1]);
    }

    /** Linear interpolation between closest ranks of sorted values. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return quantile(s, 0.5);
    }

    private static double[] ms(long[] ns, int from, int to) {
        double[] out = new double[to - from];
        for (int i = from; i < to; i++) out[i - from] = ns[i] / 1e6;
        return out;
    }
}
