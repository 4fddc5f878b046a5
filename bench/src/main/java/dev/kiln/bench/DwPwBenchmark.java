package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.DepthwiseSeparableConv2d;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * Depthwise 3×3 + pointwise 1×1, fused (one kernel, intermediate never stored) against the
 * unfused pair of Kiln kernels, where the intermediate fits in L2 (32→64 @ 56²: 0.4 MB) and
 * where it does not (64→128 @ 112²: 3.2 MB). One op = 2·C·HW·(9 + O) flops.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class DwPwBenchmark {
    @Param({"32x64x56", "64x128x112"}) String shape;
    @Param({"fused", "unfused"}) String variant;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    Harness h;

    @Setup public void setup() {
        String[] s = shape.split("x");
        int c = Integer.parseInt(s[0]), o = Integer.parseInt(s[1]), hw = Integer.parseInt(s[2]);
        var g = Tracer.trace(new DepthwiseSeparableConv2d(c, o).initialize(3), 1, c, hw, hw);
        h = variant.equals("fused") ? new Harness(g, backend, threads) : new Harness(g, backend, threads, "fuse-depthwise-pointwise");
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float dwpw() { return h.call(); }
}
