package dev.kiln.bench;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Where;
import org.openjdk.jmh.annotations.*;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Causal attention, d = 64, one head, as a GPT-style block exports it: softmax(where(triu, −∞, Q·Kᵀ/√d))·V.
 * "fused": FuseAttention turns the triangle into the causal flag (tiles past the diagonal never read);
 * "fused-mask": the same triangle as an additive float [N,N] mask, which stays a tensor the fused kernel
 * streams (every tile computed); "unfused": the chain of Kiln kernels, storing the N×N scores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS, "-Xmx4g"})
public class CausalAttentionBenchmark {
    @Param({"512", "2048", "4096"}) int n;
    @Param({"fused", "fused-mask", "unfused"}) String variant;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    static final int D = 64;
    Harness h;

    @Setup public void setup() {
        GraphBuilder b = new GraphBuilder("causal");
        String q = b.input("q", TensorType.f32(1, n, D)), k = b.input("k", TensorType.f32(1, n, D)), v = b.input("v", TensorType.f32(1, n, D));
        String kt = b.add(new Transpose(new int[]{0, 2, 1}), List.of(k), "");
        String s = b.add(new Scale((float) (1 / Math.sqrt(D))), List.of(b.add(new MatMul(), List.of(q, kt), "")), "");
        boolean additive = variant.equals("fused-mask");
        float[] tri = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) tri[i * n + j] = additive ? Float.NEGATIVE_INFINITY : 1f;
        String mask = b.constant("triu", HostTensor.of(tri, n, n));
        String masked = additive ? b.add(new Binary(Binary.Kind.ADD), List.of(s, mask), "")
                : b.add(new Where(), List.of(mask, b.constant("neg_inf", HostTensor.of(new float[]{Float.NEGATIVE_INFINITY})), s), "");
        String y = b.add(new MatMul(), List.of(b.add(new Softmax(2), List.of(masked), ""), v), "");
        var g = b.output(y).build();
        h = variant.equals("unfused") ? new Harness(g, backend, threads, "fuse-attention") : new Harness(g, backend, threads);
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float attention() { return h.call(); }
}
