package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * What a user waits for before the first result, in a fresh JVM: trace → passes → code
 * generation → first run. Single shot per fork, several forks.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class CompileTimeBenchmark {
    @Param({"dwsep", "mobilenet", "attention", "adaptive-attention", "generator", "cnn", "lstm", "seq-attention", "seq-attention-general"})
    String model;
    @Param({"cpu"}) String backend;

    @Benchmark public float compileAndFirstRun() {
        Examples.Example ex = Examples.byName(model);
        try (Harness h = new Harness(Tracer.trace(ex.model().get().initialize(5), "x", ex.inputShape()), backend, 2)) {
            return h.call();
        }
    }
}
