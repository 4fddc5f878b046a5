package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Activations;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Sequential;
import org.openjdk.jmh.annotations.*;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One dense 3×3 pad-1 conv + bias + ReLU (fused into its epilogue) at ResNet-like shapes
 * (C→O @ H×W, batch 1 unless given), through each of the cpu backend's dense-conv lowerings,
 * side by side in one run. One op = 2·9·C·O·H·W flops (direct-conv count, also for Winograd,
 * so GFLOP/s compare as speed). Run the FMA-peak benchmark in the same run for % of peak.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class ConvBenchmark {
    /** C x O x H(=W), optionally x batch. */
    @Param({"64x64x56", "128x128x28", "256x256x14", "512x512x7"}) String shape;
    @Param({"auto", "direct", "im2col", "winograd"}) String conv;
    @Param({"2"}) int threads;
    Harness h;

    @Setup public void setup() {
        String[] s = shape.split("x");
        int c = Integer.parseInt(s[0]), o = Integer.parseInt(s[1]), hw = Integer.parseInt(s[2]), batch = s.length > 3 ? Integer.parseInt(s[3]) : 1;
        var model = new Sequential(new Conv2d(c, o, 3).padding(1), new Activations.ReLU()).initialize(7);
        h = new Harness(Tracer.trace(model, batch, c, hw, hw), "cpu", Map.of("threads", Integer.toString(threads), "conv", conv));
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float conv() { return h.call(); }
}
