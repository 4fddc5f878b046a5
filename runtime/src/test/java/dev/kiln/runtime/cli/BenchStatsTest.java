package dev.kiln.runtime.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchStatsTest {
    /** Back-to-back calls of the given durations (ms), starting at 0. */
    private static BenchStats of(double... ms) {
        long[] start = new long[ms.length], dur = new long[ms.length];
        long t = 0;
        for (int i = 0; i < ms.length; i++) { start[i] = t; dur[i] = (long) (ms[i] * 1e6); t += dur[i]; }
        return BenchStats.of(start, dur);
    }

    @Test
    void findsWhereTheWarmUpCurveReachesSteadyState() {
        double[] ms = new double[40];
        double[] curve = {100, 40, 20, 5, 2};
        for (int i = 0; i < ms.length; i++) ms[i] = i < curve.length ? curve[i] : 1.0;
        BenchStats s = of(ms);
        assertEquals(100, s.firstCallMs(), 1e-9);
        assertEquals(1.0, s.steadyMs(), 1e-9);
        assertEquals(10, s.steadyWindow());
        assertTrue(s.reachedSteady());
        // window of 4 calls: its median first drops to ≤ 1.1 ms at call 4 (durations 2,1,1,1)
        assertEquals(4, s.warmUpCalls());
        assertEquals(165, s.warmUpMs(), 1e-6);
        assertEquals(36, s.latency().count());
        assertEquals(1.0, s.latency().median(), 1e-9);
        assertEquals(2.0, s.latency().max(), 1e-9);
        assertEquals(36 / 0.037, s.callsPerSecond(), 1e-6);
    }

    @Test
    void aSingleFastCallDoesNotEndTheWarmUp() {
        double[] ms = new double[50];
        for (int i = 0; i < ms.length; i++) ms[i] = i < 20 ? (i == 3 ? 1.0 : 10.0) : 1.0;
        assertEquals(18, of(ms).warmUpCalls());
    }

    @Test
    void onShortRunsTheLastQuarterIsSteadyState() {
        BenchStats s = of(10, 9, 8, 7, 6, 5, 4, 3);
        assertEquals(2, s.steadyWindow());
        assertEquals(3.5, s.steadyMs(), 1e-9);
        assertTrue(s.reachedSteady());
        assertEquals(7, s.warmUpCalls(), "only the last call is within 10 % of 3.5 ms");
        assertEquals(1, s.latency().count());
    }

    @Test
    void percentilesInterpolateBetweenRanks() {
        BenchStats.Percentiles p = BenchStats.percentiles(new double[]{4, 1, 3, 2, 5});
        assertEquals(1, p.min());
        assertEquals(3, p.median());
        assertEquals(4.6, p.p90(), 1e-9);
        assertEquals(5, p.max());
    }
}
