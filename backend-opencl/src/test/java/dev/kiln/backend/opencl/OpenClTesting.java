package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.testing.SkipOrFail;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared by the OpenCL tests. Without an OpenCL platform the tests that need one are skipped
 * on a developer's machine, but fail under CI (env CI=true), where .ci/run installs PoCL: a CI
 * run must never pass by skipping the backend.
 *
 * <p>Tolerances against the reference interpreter (double accumulation, one rounding per op):
 * the kernels accumulate in float with FMA in their own order, so a dot product of length K is
 * off by about sqrt(K)·2^-24 relative. A relative L2 error of 2e-5 and an element-wise
 * |a−b| ≤ 1e-4·|b| + 1e-4·max|b| leave a margin of 10× or more for the sizes tested, while a
 * wrong index, stride, padding or epilogue is off by 1e-2 or more.
 */
final class OpenClTesting {
    private OpenClTesting() {}

    static final double MAX_RELATIVE_L2 = 2e-5, RTOL = 1e-4, ATOL_OF_MAX = 1e-4;

    static boolean underCi() { return SkipOrFail.underCi(); }

    /** Skips the calling test when there is no OpenCL device, or fails it under CI (one rule for every module). */
    static void assumeOpenCl() { SkipOrFail.requireBackend(new OpenClBackend()); }

    static Executable compile(Graph g) { return compile(g, Map.of()); }

    /** Compiles for the first device (surefire points the program cache into target/, never the user's ~/.cache). */
    static Executable compile(Graph g, Map<String, String> options) {
        assumeOpenCl();
        return new OpenClBackend().compile(g, options);
    }

    /** Standard-normal data for every input, reproducibly from the seed. */
    static Map<String, HostTensor> inputs(Graph g, long seed) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        int i = 0;
        for (Graph.Value v : g.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed * 31 + i++));
        return in;
    }

    /** Compiles g, runs it on seeded inputs, and checks every output against the reference interpreter. */
    static void assertMatchesReference(Graph g, long seed) {
        Map<String, HostTensor> in = inputs(g, seed);
        Map<String, HostTensor> actual;
        try (Executable e = compile(g)) {
            actual = e.run(in);
        }
        assertClose(ReferenceInterpreter.run(g, in), actual, "graph @" + g.name());
    }

    static void assertClose(Map<String, HostTensor> expected, Map<String, HostTensor> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": output names");
        for (var e : expected.entrySet()) assertClose(e.getValue(), actual.get(e.getKey()), what + " output %" + e.getKey());
    }

    static void assertClose(HostTensor expected, HostTensor actual, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        double rel = actual.relativeL2Error(expected), maxAbs = actual.maxAbsError(expected);
        double scale = 0;
        for (float v : expected.data()) scale = Math.max(scale, Math.abs(v));
        double atol = ATOL_OF_MAX * scale;
        assertTrue(rel <= MAX_RELATIVE_L2 || scale == 0, () -> what + ": relative L2 error " + rel + " > " + MAX_RELATIVE_L2
                + " (max abs error " + maxAbs + ")\nexpected " + expected + "\nactual   " + actual);
        assertTrue(actual.allClose(expected, RTOL, atol), () -> what + ": not close element-wise (max abs error " + maxAbs
                + ", atol " + atol + ")\nexpected " + expected + "\nactual   " + actual);
    }
}
