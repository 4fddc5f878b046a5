package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key-padding masks against the streaming kernel: rows whose first keys are all −∞ (left
 * padding) start the online softmax with a running max of −∞, which must not turn into
 * exp(−∞ − (−∞)) = NaN. 128 keys span at least two key tiles on any vector width here.
 */
class CpuAttentionMaskTest {
    private static final int M = 9, N = 128, D = 8, E = 8;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** Row i hides its first pad[i] keys; the rest of the mask is 0. */
    private static HostTensor leftPadding(int... pad) {
        HostTensor mask = HostTensor.zeros(1, M, N);
        for (int i = 0; i < M; i++) Arrays.fill(mask.data(), i * N, i * N + pad[i], NEG_INF);
        return mask;
    }

    private static Graph attention() { return attention(false); }

    /** [1,M,D] queries over [1,N,D] keys with a [1,M,N] mask, added or (selects) replacing the score where it is −∞. */
    private static Graph attention(boolean selects) {
        GraphBuilder g = new GraphBuilder("padded");
        List<String> in = List.of(g.input("q", TensorType.f32(1, M, D)), g.input("k", TensorType.f32(1, N, D)),
                g.input("v", TensorType.f32(1, N, E)), g.input("mask", TensorType.f32(1, M, N)));
        var row = AttentionLayout.ROW_MAJOR;
        var op = new FusedAttention((float) (1 / Math.sqrt(D)), true, row, row, row, row, false, selects, Epilogue.NONE);
        return g.output(g.add(op, in, "attention")).build();
    }

    private static Map<String, HostTensor> inputs(HostTensor mask) {
        return Map.of("q", HostTensor.normal(Shape.of(1, M, D), 1), "k", HostTensor.normal(Shape.of(1, N, D), 2),
                "v", HostTensor.normal(Shape.of(1, N, E), 3), "mask", mask);
    }

    private static HostTensor run(Graph g, Map<String, HostTensor> in, String threads) {
        try (Executable exe = new CpuBackend().compile(g, Map.of("threads", threads))) {
            return exe.run(in).values().iterator().next();
        }
    }

    @Test
    void rowsWhoseLeadingKeyTilesAreMaskedMatchTheReference() {
        // whole leading tiles (64 = a tile at 16 lanes, two at 8), part of the next, all but the last key, none
        Map<String, HostTensor> in = inputs(leftPadding(64, 100, 0, 127, 65, 32, 63, 1, 96));
        Graph g = attention();
        HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
        for (String threads : new String[]{"1", "2"}) {
            HostTensor got = run(g, in, threads);
            for (float v : got.data()) assertTrue(Float.isFinite(v), "threads " + threads + ": " + got);
            assertTrue(got.allClose(want, 1e-4, 1e-5), "threads " + threads + ": rel. L2 " + got.relativeL2Error(want) + "\n" + got + "\n" + want);
        }
    }

    @Test
    void fullyMaskedRowIsNaNAsInTheReferenceAndLeavesItsBlockAlone() {
        Map<String, HostTensor> in = inputs(leftPadding(N, 64, 0, N, 127, 0, 0, 0, N));
        Graph g = attention();
        HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
        for (String threads : new String[]{"1", "2"}) {
            HostTensor got = run(g, in, threads);
            for (int i = 0; i < M; i++)
                for (int c = 0; c < E; c++) {
                    float w = want.get(0, i, c), v = got.get(0, i, c);
                    if (Float.isNaN(w)) assertTrue(Float.isNaN(v), "row " + i + " is fully masked: the reference gives NaN, got " + v);
                    else assertEquals(w, v, 1e-4 * Math.abs(w) + 1e-5, "row " + i + ", column " + c + ", threads " + threads);
                }
        }
        assertTrue(Float.isNaN(want.get(0, 0, 0)), "the reference's softmax over only −∞ is NaN: " + want);
    }

    /**
     * With a mask, the softmax step once made the kernel's row method too big for C1's tier-3
     * register allocator; HotSpot then never compiled it with C2 and every call boxed vectors
     * (16 MB and 5–7× the unfused chain's time at N = 512). Once C2 has compiled the kernel, a
     * steady-state call allocates nothing, for added and for selecting masks.
     */
    @Test
    void maskedAttentionDoesNotAllocatePerCallOnceCompiled() {
        for (boolean selects : new boolean[]{false, true}) {
            Graph g = attention(selects);
            Map<String, HostTensor> in = inputs(leftPadding(0, 3, 64, 1, 0, 100, 7, 0, 2));
            HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
            try (Executable exe = new CpuBackend().compile(g, Map.of("threads", "2"))) {
                Map<String, HostTensor> out = new LinkedHashMap<>(Map.of(g.outputs().getFirst(), HostTensor.zeros(1, M, E)));
                long perCall = SteadyAllocation.bytesPerCall(exe, in, out, 2000, 200, 0);
                assertEquals(0, perCall, "bytes allocated per call, selects " + selects);
                HostTensor got = out.values().iterator().next();
                assertTrue(got.allClose(want, 1e-4, 1e-5), "selects " + selects + ": rel. L2 " + got.relativeL2Error(want));
            }
        }
    }
}
