package dev.kiln.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * The machine's FP32 FMA peak through the Vector API: 12 independent accumulators, so FMA
 * latency is hidden and only throughput counts. One op = ITER × 12 × lanes × 2 flops.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class FmaPeakBenchmark {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    public static final int ITER = 100_000;
    public static final long FLOPS_PER_OP = (long) ITER * 12 * S.length() * 2;

    float seed = 1.0001f;

    @Benchmark @Threads(1)
    public float oneThread() { return fmaLoop(seed); }

    @Benchmark @Threads(2)
    public float twoThreads() { return fmaLoop(seed); }

    static float fmaLoop(float s) {
        FloatVector m = FloatVector.broadcast(S, s), a = FloatVector.broadcast(S, 0.999f);
        FloatVector c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
        for (int i = 0; i < ITER; i++) {
            c0 = c0.fma(a, m); c1 = c1.fma(a, m); c2 = c2.fma(a, m); c3 = c3.fma(a, m);
            c4 = c4.fma(a, m); c5 = c5.fma(a, m); c6 = c6.fma(a, m); c7 = c7.fma(a, m);
            c8 = c8.fma(a, m); c9 = c9.fma(a, m); c10 = c10.fma(a, m); c11 = c11.fma(a, m);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
