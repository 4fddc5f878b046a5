package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LSTM and GRU at batch 1 (fewer batch elements than compute units) are spread over work-groups,
 * one launch per time step: layers read the one below in place, the reverse direction runs
 * backwards, initial states seed the first step, and the result matches the reference.
 */
class SteppedRecurrentKernelTest {
    @Test
    void batchOneLstmIsLaunchedOncePerStepOverSeveralWorkGroups() {
        TestGraph t = new TestGraph("lstm-stepped");
        int h = 32, f = 16, steps = 7;
        String y = t.op(new Lstm(h, 2, true, false), t.input(1, steps, f),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h),
                t.weight(4 * h, h), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        Graph g = t.returning(y);
        assertMatchesReference(g, 1);
        OpenClTesting.assumeOpenCl();
        try (var e = (OpenClExecutable) OpenClTesting.compile(g)) {
            Kernel k = e.kernels().stream().filter(c -> c.launches() > 1).findFirst().orElseThrow();
            assertEquals(2 * (steps + 1), k.launches(), "launches: a step each plus one, per layer");
            assertTrue(k.global()[0] / k.local()[0] >= 2, "work-groups: " + k.global()[0] / k.local()[0]);
            assertTrue(k.args().containsAll(List.of(Kernel.SCRATCH, Kernel.LAUNCH)));
        }
    }

    @Test
    void batchOneLstmWithInitialStateSequenceFirst() {
        TestGraph t = new TestGraph("lstm-stepped-init");
        int h = 9, f = 5;
        String y = t.op(new Lstm(h, 2, false, true), t.input(6, 1, f), t.input(2, 1, h), t.input(2, 1, h),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h),
                t.weight(4 * h, h), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void batchOneBidirectionalLstmAndGru() {
        int h = 6, f = 3;
        TestGraph t = new TestGraph("lstm-stepped-bi");
        String y = t.op(new Lstm(h, 1, true, true, true), t.input(1, 5, f), t.input(2, 1, h), t.input(2, 1, h),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 3);
        TestGraph u = new TestGraph("gru-stepped-bi");
        String z = u.op(new Gru(h, 1, true, true, true), u.input(1, 5, f), u.input(2, 1, h),
                u.weight(3 * h, f), u.weight(3 * h, h), u.weight(3 * h), u.weight(3 * h),
                u.weight(3 * h, f), u.weight(3 * h, h), u.weight(3 * h), u.weight(3 * h));
        assertMatchesReference(u.returning(z), 4);
    }

    @Test
    void batchOneTwoLayerGruWithInitialState() {
        TestGraph t = new TestGraph("gru-stepped");
        int h = 20, f = 7;
        String y = t.op(new Gru(h, 2, true, true, false), t.input(1, 9, f), t.input(2, 1, h),
                t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h),
                t.weight(3 * h, h), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h));
        assertMatchesReference(t.returning(y), 5);
    }

    @Test
    void runsRepeatedlyWithFreshState() {
        // the scratch holds c and h between launches: a second run must not start from the first one's state
        TestGraph t = new TestGraph("lstm-stepped-again");
        int h = 8, f = 4;
        String y = t.op(new Lstm(h, 1, true, false), t.input(1, 4, f), t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        Graph g = t.returning(y);
        OpenClTesting.assumeOpenCl();
        try (var e = OpenClTesting.compile(g)) {
            for (int seed = 0; seed < 3; seed++) {
                var in = OpenClTesting.inputs(g, seed);
                OpenClTesting.assertClose(dev.kiln.ir.ReferenceInterpreter.run(g, in), e.run(in), "run " + seed);
            }
        }
    }
}
