package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Activations;
import dev.kiln.frontend.nn.ConvTranspose2d;
import dev.kiln.frontend.nn.Sequential;
import org.openjdk.jmh.annotations.*;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One DCGAN-like upsampling layer on the cpu backend: ConvTranspose2d(C→O, k4, s2, p1) + bias +
 * ReLU (fused into its epilogue), doubling H×W, batch 1. It lowers to a GEMM (every input pixel
 * times every tap) and a col2im. One op = 2·C·O·16·H·W flops (the GEMM's count, taps cropped off
 * by the padding included). Run the FMA-peak benchmark in the same run for % of peak.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class ConvTransposeBenchmark {
    /** C x O x H(=W) of the input. */
    @Param({"64x32x16", "128x64x16", "256x128x8"}) String shape;
    @Param({"1", "2"}) int threads;
    Harness h;

    /** Flops of one call at this shape. */
    static long flops(String shape) {
        String[] s = shape.split("x");
        long c = Long.parseLong(s[0]), o = Long.parseLong(s[1]), hw = Long.parseLong(s[2]);
        return 2 * c * o * 16 * hw * hw;
    }

    @Setup public void setup() {
        String[] s = shape.split("x");
        int c = Integer.parseInt(s[0]), o = Integer.parseInt(s[1]), hw = Integer.parseInt(s[2]);
        var model = new Sequential(new ConvTranspose2d(c, o, 4).stride(2).padding(1), new Activations.ReLU()).initialize(7);
        h = new Harness(Tracer.trace(model, 1, c, hw, hw), "cpu", Map.of("threads", Integer.toString(threads)));
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float convTranspose() { return h.call(); }
}
