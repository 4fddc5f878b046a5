package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Reduce;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * L2 and sum of squares of values whose squares leave f32's range (|x| near 1e-30 or 1e30, subnormals),
 * with ±∞, NaN and all-zero rows, reduced along the contiguous axis (vector body and tail) and across
 * rows (one output line per vector), against the reference, which squares in double. Before the
 * kernel scaled by the largest |x|, ‖x‖ of 7e-29 came out 0 (the long run's seeds 602432, 614205,
 * 618847).
 */
class ReduceNormRangeTest {
    static final float[] SCALES = {1e-30f, 3e-20f, 1e-3f, 1f, 1e19f, 1e30f, 1e-42f};

    static float[] data(int rows, int cols) {
        Random r = new Random(7);
        float[] a = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                float s = i < SCALES.length ? SCALES[i] : 1f;
                a[i * cols + j] = (r.nextBoolean() ? s : -s) * (0.5f + r.nextFloat());
            }
        // row 7 all zeros; row 8 one +∞; row 9 a NaN and a −∞; row 10 one huge value among tiny ones
        int z = SCALES.length;
        for (int j = 0; j < cols; j++) { a[z * cols + j] = 0f; a[(z + 3) * cols + j] = 1e-25f * j; }
        a[(z + 1) * cols + 3] = Float.POSITIVE_INFINITY;
        a[(z + 2) * cols + 1] = Float.NaN;
        a[(z + 2) * cols + 5] = Float.NEGATIVE_INFINITY;
        a[(z + 3) * cols + cols - 1] = 3e25f;
        return a;
    }

    @ParameterizedTest
    @EnumSource(value = Reduce.Kind.class, names = {"L2", "SUM_SQUARE"})
    void squaresOutOfF32RangeMatchTheReference(Reduce.Kind kind) {
        int rows = SCALES.length + 4, cols = 2 * 16 + 5;
        GraphBuilder g = new GraphBuilder("norms");
        String x = g.input("x", TensorType.f32(rows, cols));
        g.output(g.add("rows", new Reduce(kind, false, 1), List.of(x), "rows"));
        Graph graph = g.output(g.add("cols", new Reduce(kind, true, 0), List.of(x), "cols")).build();
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(data(rows, cols), rows, cols));
        Map<String, HostTensor> want = ReferenceInterpreter.run(graph, in);
        try (Executable e = new CpuBackend().compile(graph, Map.of("threads", "1"))) {
            Map<String, HostTensor> got = e.run(in);
            for (String k : want.keySet()) assertClose(want.get(k).data(), got.get(k).data(), kind + " " + k);
        }
    }

    /** Within 1e-5 relative (or 2 subnormal steps), ±∞ and NaN where the reference has them. */
    static void assertClose(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            float w = want[i], a = got[i];
            boolean ok = Float.isNaN(w) ? Float.isNaN(a) : Float.isInfinite(w) ? w == a
                    : Math.abs(w - a) <= 1e-5f * Math.abs(w) + 2 * Float.MIN_VALUE;
            if (!ok) throw new AssertionError(what + " at " + i + ": " + a + ", reference " + w);
        }
    }
}
