package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.testing.RandomActs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every element-wise function ir defines, written inline by the specialiser, against the
 * reference: standalone (vector body and scalar tail) and as a fused linear's epilogue, on the
 * values where functions go wrong — zeros of both signs, halves (rounding), the overflow and
 * underflow edges of exp, subnormals, ±∞ and NaN — and random ones.
 */
class ActivationsTest {
    static final float[] EDGES = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 1.5f, -2.5f, 2.5f, 1e-6f, -1e-6f, 3f, -3f, 6f, 7f, -7f,
            20f, -20f, 88f, -88f, 89f, -104f, 1e30f, -1e30f, Float.MIN_VALUE, -1.2e-38f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN, 0.25f, -0.25f, 8388607.5f, -8388609f, 4.5f};

    @ParameterizedTest
    @EnumSource(value = Unary.Kind.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void standaloneMatchesTheReferenceEverywhere(Unary.Kind kind) {
        SplittableRandom r = new SplittableRandom(kind.ordinal());
        for (int variant = 0; variant < 3; variant++) {
            Act act = RandomActs.withParams(kind, r::nextInt);
            int n = 3 * 16 + 7;        // whole vectors and a tail at any vector width up to 16
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = i < EDGES.length ? EDGES[i] : (float) (r.nextGaussian() * 3);
            GraphBuilder b = new GraphBuilder("unary");
            Graph g = b.output(b.add(new Unary(act), List.of(b.input("x", TensorType.f32(n))), "f")).build();
            check(g, Map.of("x", HostTensor.of(x, n)), act, x);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Unary.Kind.class)
    void fusedIntoALinearEpilogueMatchesTheReference(Unary.Kind kind) {
        SplittableRandom r = new SplittableRandom(100 + kind.ordinal());
        Act act = RandomActs.withParams(kind, r::nextInt);
        int rows = 5, k = 3, n = 37;
        // weights [[1,0,0],[0,1,0],...] and zero bias pass x through, so the epilogue sees the edge values themselves
        float[] w = new float[n * k], bias = new float[n], x = new float[rows * k];
        for (int j = 0; j < n; j++) w[j * k + j % k] = 1f;
        for (int i = 0; i < x.length; i++) x[i] = i < EDGES.length ? EDGES[i] : (float) r.nextGaussian();
        GraphBuilder b = new GraphBuilder("fused");
        String in = b.input("x", TensorType.f32(rows, k));
        String wn = b.constant("w", HostTensor.of(w, n, k)), bn = b.constant("b", HostTensor.of(bias, n));
        Graph g = b.output(b.add(new Linear(Epilogue.of(act)), List.of(in, wn, bn), "fc")).build();
        float[] args = new float[rows * n];
        for (int i = 0; i < rows; i++) for (int j = 0; j < n; j++) args[i * n + j] = x[i * k + j % k];
        check(g, Map.of("x", HostTensor.of(x, rows, k)), act, args);
    }

    /** args: the value the activation applies to, per output element. */
    private static void check(Graph g, Map<String, HostTensor> in, Act act, float[] args) {
        HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
        HostTensor got;
        try (Executable e = new CpuBackend().compile(g, Map.of("threads", "1"))) {
            got = e.run(in).values().iterator().next();
        }
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < want.size(); i++) {
            float a = got.data()[i], e = want.data()[i];
            if (!close(a, e, act, args[i])) bad.add("f(" + args[i] + ") = " + a + ", reference " + e);
        }
        assertTrue(bad.isEmpty(), act + ": " + bad);
    }

    /** NaN as NaN, ∞ as the same ∞, else a few ulps of the result (of max(1, |x|) for functions whose error is absolute). */
    static boolean close(float a, float e, Act act, double x) {
        if (Float.isNaN(e) || Float.isNaN(a)) return Float.isNaN(e) && Float.isNaN(a);
        if (Float.isInfinite(e) || Float.isInfinite(a)) return a == e;
        double scale = act.kind().absoluteError() && Double.isFinite(x) ? Math.max(1, Math.abs(x)) : 0;
        return Math.abs(a - e) <= 4e-6 * Math.abs(e) + 1e-6 * scale + 1e-37;
    }
}
