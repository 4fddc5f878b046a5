package dev.kiln.bench;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import org.openjdk.jmh.annotations.*;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * softmax(Q·Kᵀ/√d)·V with d = 64: the streaming FusedAttention kernel against the unfused chain
 * of Kiln kernels (which stores the N×N scores). One op = 4·N²·d flops.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS, "-Xmx4g"})
public class AttentionBenchmark {
    @Param({"256", "1024", "4096"}) int n;
    @Param({"fused", "unfused"}) String variant;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    static final int D = 64;
    Harness h;

    @Setup public void setup() {
        GraphBuilder b = new GraphBuilder("attention");
        String q = b.input("q", TensorType.f32(1, n, D)), k = b.input("k", TensorType.f32(1, n, D)), v = b.input("v", TensorType.f32(1, n, D));
        String kt = b.add(new Transpose(new int[]{0, 2, 1}), List.of(k), "");
        String s = b.add(new Scale((float) (1 / Math.sqrt(D))), List.of(b.add(new MatMul(), List.of(q, kt), "")), "");
        String y = b.add(new MatMul(), List.of(b.add(new Softmax(2), List.of(s), ""), v), "");
        var g = b.output(y).build();
        h = variant.equals("fused") ? new Harness(g, backend, threads) : new Harness(g, backend, threads, "fuse-attention");
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float attention() { return h.call(); }
}
