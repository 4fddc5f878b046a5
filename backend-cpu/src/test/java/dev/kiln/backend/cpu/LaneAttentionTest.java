package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SAGAN's channel-major attention runs with the queries along the lanes (LaneAttentionKernel):
 * which layouts take it, and its edges (a partial query block, several key tiles with a tail
 * of keys that is not a multiple of four, value rows that are not a multiple of eight, the
 * epilogue's extra operand, a lane whose first key tile is all −∞).
 */
class LaneAttentionTest {
    private static Graph attention(int b, int m, int n, int d, int e, boolean kc, boolean vc, boolean mask, Epilogue epi) {
        GraphBuilder g = new GraphBuilder("sagan");
        List<String> in = new ArrayList<>(List.of(g.input("q", TensorType.f32(b, d, m)),
                g.input("k", kc ? TensorType.f32(b, d, n) : TensorType.f32(b, n, d)),
                g.input("v", vc ? TensorType.f32(b, e, n) : TensorType.f32(b, n, e))));
        if (mask) in.add(g.input("mask", TensorType.f32(b, m, n)));
        if (epi.hasExtra()) in.add(g.input("extra", TensorType.f32(b, e, m)));
        return g.output(g.add(new FusedAttention(0.5f, mask, true, kc, vc, true, epi), in, "attention")).build();
    }

    private static Map<String, HostTensor> inputs(Graph g) {
        var in = new java.util.LinkedHashMap<String, HostTensor>();
        long seed = 7;
        for (Graph.Value v : g.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        return in;
    }

    private static List<String> kernels(Graph g) {
        try (Executable exe = new CpuBackend().compile(g, Map.of())) {
            return ((CpuExecutable) exe).steps().stream().map(s -> ((Step.KernelStep) s).name()).toList();
        }
    }

    private static void matchesReference(Graph g, Map<String, HostTensor> in) {
        HostTensor expected = ReferenceInterpreter.run(g, in).values().iterator().next();
        for (String threads : new String[]{"1", "2"})
            try (Executable exe = new CpuBackend().compile(g, Map.of("threads", threads))) {
                HostTensor y = exe.run(in).values().iterator().next();
                assertTrue(y.allClose(expected, 1e-4, 1e-5), "threads " + threads + ": rel. L2 " + y.relativeL2Error(expected));
            }
    }

    @Test
    void channelMajorQueriesAndOutputTakeTheLaneKernelWithoutTransposes() {
        List<String> steps = kernels(attention(1, 256, 256, 8, 64, true, true, false, Epilogue.NONE));
        assertEquals(1, steps.size(), steps::toString);
        assertTrue(steps.getFirst().contains("LaneAttentionKernel"), steps::toString);
        // K and V in sequence layout are read by broadcasts too
        assertEquals(1, kernels(attention(1, 64, 64, 8, 16, false, false, false, Epilogue.NONE)).size());
    }

    @Test
    void aMaskKeepsTheRowKernel() {
        assertFalse(kernels(attention(1, 64, 64, 8, 16, true, true, true, Epilogue.NONE)).toString().contains("LaneAttentionKernel"));
    }

    @Test
    void edgesMatchTheReference() {
        // 40 queries: one full block and a partial one at 16 lanes; 301 keys: three tiles of up to 128, tails of 1 key
        for (boolean kc : new boolean[]{true, false})
            for (boolean vc : new boolean[]{true, false}) {
                Graph g = attention(2, 40, 301, 3, 13, kc, vc, false, Epilogue.of(Epilogue.MUL, Epilogue.act(dev.kiln.ir.op.Act.RELU)));
                matchesReference(g, inputs(g));
            }
    }

    @Test
    void aLaneWhoseFirstKeyTileIsAllMinusInfinityMatchesTheReference() {
        // D = 1 and positive queries: keys of −∞ give scores of −∞ for every query (no 0·∞)
        int m = 32, n = 300;
        Graph g = attention(1, m, n, 1, 4, true, true, false, Epilogue.NONE);
        Map<String, HostTensor> in = inputs(g);
        float[] q = in.get("q").data(), k = in.get("k").data();
        for (int i = 0; i < m; i++) q[i] = 1 + Math.abs(q[i]);
        Arrays.fill(k, 0, 200, Float.NEGATIVE_INFINITY);
        matchesReference(g, in);
    }
}
