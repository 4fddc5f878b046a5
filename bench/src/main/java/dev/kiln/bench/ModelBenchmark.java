package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import org.openjdk.jmh.annotations.*;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Each built-in target model end to end (default pipeline) at its demo input shape, batch 1. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class ModelBenchmark {
    @Param({"dwsep", "mobilenet", "attention", "adaptive-attention", "generator", "cnn", "lstm", "seq-attention", "seq-attention-general"})
    String model;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    /** The cpu backend's dense-conv lowering: auto (its own choice), direct, im2col or winograd, to compare them side by side. */
    @Param({"auto"}) String conv;
    Harness h;

    @Setup public void setup() {
        Examples.Example ex = Examples.byName(model);
        Map<String, String> options = backend.equals("cpu") ? Map.of("threads", Integer.toString(threads), "conv", conv) : Map.of();
        h = new Harness(Tracer.trace(ex.model().get().initialize(5), "x", ex.inputShape()), backend, options);
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float run() { return h.call(); }
}
