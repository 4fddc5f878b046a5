package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.kiln.ir.op.AttentionLayout.CHANNEL_MAJOR;
import static dev.kiln.ir.op.AttentionLayout.ROW_MAJOR;
import static dev.kiln.ir.op.AttentionLayout.SEQUENCE_MAJOR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * fused_attention's masks and layouts on each backend against the reference, with no passes: causal
 * over lengths that cross the kernels' key tiles (and with M ≠ N), broadcast additive masks
 * ([M,N], [B,1,N], [B,1,1,N]), selecting masks over NaN and +∞ scores, rows masked to their end,
 * rank-4 [B,H,N,d] operands and heads read from [B,N,H,d] / [N,B·H,d] through strides.
 */
class MaskedAttentionOnBackendsTest {
    static Stream<String> backends() { return Targets.backends(); }

    private static FusedAttention op(boolean mask, AttentionLayout q, AttentionLayout k, AttentionLayout v, AttentionLayout o,
                                     boolean causal, boolean selects) {
        return new FusedAttention(0.3f, mask, q, k, v, o, causal, selects, Epilogue.NONE);
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void causalAcrossKeyTiles(String backend) {
        for (int n : new int[]{1, 7, 37, 100, 131}) {
            check(backend, op(false, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, true, false), null, t(2, n, 8), t(2, n, 8), t(2, n, 5));
            // fewer queries than keys, and more
            check(backend, op(false, ROW_MAJOR, CHANNEL_MAJOR, ROW_MAJOR, ROW_MAJOR, true, false), null, t(1, Math.max(1, n / 3), 4), t(1, 4, n), t(1, n, 3));
            check(backend, op(false, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, true, false), null, t(1, n + 9, 4), t(1, n, 4), t(1, n, 3));
        }
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void headsThroughStrides(String backend) {
        // GPT-style [B,N,H,d] read as [B,H,N,d]; nn.MultiheadAttention's [N,B·H,d] read as [B·H,N,d]; rank-4 row-major
        check(backend, op(false, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, true, false), null,
                t(2, 70, 3, 8), t(2, 70, 3, 8), t(2, 70, 3, 8));
        check(backend, op(true, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, false, false), t(6, 9),
                t(6, 4, 5), t(9, 4, 5), t(9, 4, 7));
        check(backend, op(false, ROW_MAJOR, CHANNEL_MAJOR, ROW_MAJOR, SEQUENCE_MAJOR, false, false), null,
                t(2, 2, 11, 4), t(2, 2, 4, 13), t(2, 2, 13, 6));
        check(backend, op(false, SEQUENCE_MAJOR, ROW_MAJOR, CHANNEL_MAJOR, ROW_MAJOR, false, false), null,
                t(1, 11, 2, 4), t(1, 2, 13, 4), t(1, 2, 6, 13));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void broadcastMasks(String backend) {
        check(backend, op(true, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, false, false), t(5, 70), t(3, 5, 4), t(3, 70, 4), t(3, 70, 6));
        check(backend, op(true, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, true, false), t(3, 1, 70), t(3, 5, 4), t(3, 70, 4), t(3, 70, 6));
        check(backend, op(true, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, SEQUENCE_MAJOR, false, true), t(2, 1, 1, 33),
                t(2, 33, 2, 4), t(2, 33, 2, 4), t(2, 33, 2, 4));
        check(backend, op(true, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, false, false), t(1, 2, 1, 40), t(3, 2, 5, 4), t(3, 2, 40, 4), t(3, 2, 40, 6));
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backends")
    void selectingMaskReplacesNonFiniteScoresAndFullyMaskedRowsAreNaN(String backend) {
        int n = 70;
        float[] k = HostTensor.normal(Shape.of(1, n, 4), 3).data();
        k[4 * 5] = Float.NaN;                       // key 5 gives NaN scores, key 6 +∞ ones: both masked away
        k[4 * 6] = Float.POSITIVE_INFINITY;
        float[] mask = new float[3 * n];
        for (int j = 0; j < n; j++) {
            mask[j] = j == 5 || j == 6 || j % 3 == 0 ? Float.NEGATIVE_INFINITY : 0.5f;   // row 0: some keys kept
            mask[n + j] = Float.NEGATIVE_INFINITY;                                         // row 1: all masked → NaN
            mask[2 * n + j] = j == 5 || j == 6 ? Float.NEGATIVE_INFINITY : -1f;
        }
        float[] q = HostTensor.normal(Shape.of(1, 3, 4), 4).data();
        for (int c = 0; c < 4; c++) q[c] = Math.abs(q[c]) + 0.1f;   // row 0's score against key 6 is +∞, not NaN
        q[4 * 2] = 1;
        Map<String, HostTensor> data = Map.of("q", HostTensor.of(q, 1, 3, 4), "k", HostTensor.of(k, 1, n, 4),
                "v", HostTensor.normal(Shape.of(1, n, 5), 5), "mask", HostTensor.of(mask, 1, 3, n));
        HostTensor got = run(backend, op(true, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, ROW_MAJOR, false, true), data);
        for (int c = 0; c < 5; c++) {
            assertTrue(Float.isFinite(got.data()[c]) && Float.isFinite(got.data()[10 + c]), () -> backend + ": " + got);
            assertTrue(Float.isNaN(got.data()[5 + c]), () -> backend + ": a row masked to its end is NaN, as PyTorch's: " + got);
        }
    }

    private static TensorType t(int... dims) { return TensorType.f32(dims); }

    private static void check(String backend, FusedAttention op, TensorType mask, TensorType q, TensorType k, TensorType v) {
        Map<String, HostTensor> data = new LinkedHashMap<>();
        data.put("q", HostTensor.normal(q.shape(), 11));
        data.put("k", HostTensor.normal(k.shape(), 12));
        data.put("v", HostTensor.normal(v.shape(), 13));
        if (mask != null) {
            float[] m = HostTensor.normal(mask.shape(), 14).data();
            for (int i = 0; i < m.length; i++) if (m[i] > 1.2f) m[i] = Float.NEGATIVE_INFINITY;
            data.put("mask", HostTensor.of(mask.shape(), m));
        }
        Graph g = graph(op, data);
        Case c = new Case(g, data);
        Failure f = Tolerance.expect(c).check(Targets.run(c, Targets.require(backend), List.of()), backend, 1);
        assertNull(f, () -> f + "\n" + IrPrinter.print(g));
    }

    private static HostTensor run(String backend, FusedAttention op, Map<String, HostTensor> data) {
        Graph g = graph(op, data);
        Case c = new Case(g, new LinkedHashMap<>(data));
        Map<String, HostTensor> out = Targets.run(c, Targets.require(backend), List.of());
        assertEquals(1, out.size());
        return out.values().iterator().next();
    }

    private static Graph graph(FusedAttention op, Map<String, HostTensor> data) {
        GraphBuilder b = new GraphBuilder("attention");
        List<String> in = new java.util.ArrayList<>();
        for (String name : List.of("q", "k", "v", "mask"))
            if (data.containsKey(name)) in.add(b.input(name, data.get(name).type()));
        return b.output(b.add(op, in, "attention")).build();
    }
}
