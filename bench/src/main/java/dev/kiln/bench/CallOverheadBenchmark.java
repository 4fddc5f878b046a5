package dev.kiln.bench;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Unary;
import org.openjdk.jmh.annotations.*;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What one call costs beyond its work: a graph of a single ReLU on a small vector, so the time
 * is almost all host overhead (argument checks, buffer transfers, launch, waiting for the device).
 * On OpenCL it is the floor under every model's time; issue 21 asks for at most 30 µs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class CallOverheadBenchmark {
    @Param({"1024"}) int elements;
    @Param({"cpu", "opencl"}) String backend;
    Harness h;

    @Setup public void setup() {
        GraphBuilder b = new GraphBuilder("relu" + elements);
        String x = b.input("x", TensorType.f32(elements));
        b.output(b.add(new Unary(Act.RELU), List.of(x), ""));
        h = new Harness(b.build(), backend, 1);
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float relu() { return h.call(); }
}
