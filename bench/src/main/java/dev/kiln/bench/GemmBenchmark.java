package dev.kiln.bench;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import org.openjdk.jmh.annotations.*;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Square SGEMM through Kiln's kernels: "linear" multiplies by constant weights packed at compile
 * time (the case every model layer is), "matmul" by a runtime operand. One op = 2·n³ flops.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class GemmBenchmark {
    @Param({"512", "1024"}) int size;
    @Param({"linear", "matmul"}) String form;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    Harness h;

    @Setup public void setup() {
        GraphBuilder b = new GraphBuilder("gemm");
        String x = b.input("x", TensorType.f32(size, size));
        String y;
        if (form.equals("linear")) y = b.add(new Linear(), List.of(x, b.constant("w", HostTensor.normal(dev.kiln.ir.Shape.of(size, size), 2))), "gemm");
        else y = b.add(new MatMul(), List.of(x, b.input("w", TensorType.f32(size, size))), "gemm");
        h = new Harness(b.output(y).build(), backend, threads);
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float gemm() { return h.call(); }
}
