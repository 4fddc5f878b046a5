package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU-device GEMM family against the reference on the device here (PoCL), for shapes whose
 * M, N and K are 1, primes or otherwise not multiples of any tile, with bias and epilogues, and
 * with every tile the tuner may pick (not only the defaults).
 */
class CpuDeviceGemmTest {
    static DeviceInfo device() {
        OpenClTesting.assumeOpenCl();
        return DeviceSelector.select(OpenClRuntime.devices(), null);
    }

    /** The device's limits, typed as a CPU device so the family is chosen whatever the device is. */
    static DeviceLimits cpuLimits() { return device().limits().withType(DeviceInfo.Type.CPU); }

    static void assertMatches(Graph g, DeviceLimits limits, String what) {
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 7);
        try (Executable e = OpenClExecutable.create(g, OpenClRuntime.context(device()), limits, null, null)) {
            OpenClTesting.assertClose(ReferenceInterpreter.run(g, in), e.run(in), what);
        }
    }

    /** Linear (DOT tiles), MatMul (OUTER with vector loads of B) and convolutions (OUTER, B gathered or pointwise). */
    static Graph oddShapes() {
        TestGraph t = new TestGraph("odd-gemms");
        String x1 = t.input(1, 1), x2 = t.input(13, 31), x3 = t.input(2, 3, 17);
        String l1 = t.op(new Linear(), x1, t.weight(1, 1));
        String l2 = t.op(new Linear(Epilogue.of(Act.GELU)), x2, t.weight(37, 31), t.weight(37));
        String l3 = t.op(new Linear(Epilogue.of(Epilogue.ADD).then(Act.TANH)), x3, t.weight(17, 17), t.weight(17), x3);
        String l4 = t.op(new Linear(Epilogue.of(Act.SIGMOID).then(Epilogue.MUL)), t.input(5, 53), t.weight(19, 53), t.weight(19), t.input(5, 19));
        String m1 = t.op(new MatMul(), t.input(7, 1), t.input(1, 41));
        String m2 = t.op(new MatMul(), t.input(3, 29, 23), t.input(3, 23, 47));
        String m3 = t.op(new MatMul(Epilogue.of(Epilogue.ADD)), t.input(2, 1, 11, 5), t.input(3, 5, 33), t.input(2, 3, 11, 33));
        String img = t.input(1, 5, 11, 9);
        String c1 = t.op(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.RELU)), img, t.weight(7, 5, 3, 3), t.weight(7));
        String c2 = t.op(new Conv2d(new int[]{2, 1}, new int[]{0, 2, 1, 0}, new int[]{1, 2}, 1, Epilogue.NONE), img, t.weight(3, 5, 3, 2));
        String c3 = t.op(new Conv2d(new int[]{1, 1}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1, Epilogue.of(Act.leakyRelu(0.1f))), img, t.weight(13, 5, 1, 1), t.weight(13));
        String c4 = t.op(new Conv2d(new int[]{1, 1}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 5, Epilogue.NONE), t.input(1, 10, 3, 7), t.weight(15, 2, 1, 1), t.weight(15));
        String c5 = t.op(new Conv2d(new int[]{1, 1}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1, Epilogue.NONE), t.input(2, 3, 4, 5), t.weight(6, 3, 1, 1));
        return t.returning(l1, l2, l3, l4, m1, m2, m3, c1, c2, c3, c4, c5);
    }

    @Test
    void oddShapesWithDefaultTilesMatchTheReference() {
        assertMatches(oddShapes(), cpuLimits(), "cpu-device GEMMs, default tiles");
    }

    @Test
    void everyCandidateTileMatchesTheReference() {
        Graph g = oddShapes();
        DeviceLimits limits = cpuLimits();
        TunedTiles recording = TunedTiles.recording();
        Lowering.lower(new DeviceLayout(g), limits.withTuned(recording));
        List<CpuDeviceGemm.Problem> problems = List.copyOf(recording.asked());
        assertTrue(problems.size() >= 10, "problems seen: " + problems);
        int most = 0;
        for (CpuDeviceGemm.Problem p : problems) most = Math.max(most, CpuDeviceGemm.candidates(p, limits).size());
        for (int i = 0; i < most; i++) {
            Map<String, CpuDeviceGemm.Params> pick = new HashMap<>();
            for (CpuDeviceGemm.Problem p : problems) {
                List<CpuDeviceGemm.Params> c = CpuDeviceGemm.candidates(p, limits);
                pick.put(p.key(), c.get(i % c.size()));
            }
            assertMatches(g, limits.withTuned(TunedTiles.of(pick)), "candidate tiles #" + i + " " + pick);
        }
    }

    @Test
    void theFamilyFollowsTheDeviceTypeAndShowsInTheSource() {
        Graph g = oddShapes();
        DeviceLimits base = new DeviceLimits(1024, new long[]{1024, 1024, 1024}, 64 << 10, 16, 2, 1L << 30, 1L << 32);
        for (DeviceInfo.Type type : DeviceInfo.Type.values()) {
            boolean cpu = type == DeviceInfo.Type.CPU;
            for (Kernel k : Lowering.lower(new DeviceLayout(g), base.withType(type))) {
                if (!k.name().contains("linear") && !k.name().contains("matmul") && !k.name().contains("conv")) continue;
                assertEquals(cpu, k.source().contains("cpu-device GEMM (no local memory)"), type + " " + k.name());
                assertEquals(!cpu, k.source().contains("__local"), type + " " + k.name());
                assertFalse(cpu && k.source().contains("barrier("), k.name());
            }
        }
    }

    @Test
    void aSystemPropertyForcesEitherFamily() {
        Graph g = oddShapes();
        DeviceLimits cpu = new DeviceLimits(1024, new long[]{1024, 1024, 1024}, 64 << 10, 16, 2, 1L << 30, 1L << 32).withType(DeviceInfo.Type.CPU);
        String before = System.getProperty(GemmKernel.FAMILY_PROPERTY);
        try {
            System.setProperty(GemmKernel.FAMILY_PROPERTY, "tiled");
            assertTrue(Lowering.lower(new DeviceLayout(g), cpu).stream().noneMatch(k -> k.source().contains("cpu-device GEMM")));
            System.setProperty(GemmKernel.FAMILY_PROPERTY, "cpu");
            assertTrue(Lowering.lower(new DeviceLayout(g), cpu.withType(DeviceInfo.Type.GPU)).stream().anyMatch(k -> k.source().contains("cpu-device GEMM")));
            System.setProperty(GemmKernel.FAMILY_PROPERTY, "fastest");
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.kiln.ir.KilnException.class, () -> Lowering.lower(new DeviceLayout(g), cpu));
            assertTrue(e.getMessage().contains("expected auto, tiled or cpu"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty(GemmKernel.FAMILY_PROPERTY);
            else System.setProperty(GemmKernel.FAMILY_PROPERTY, before);
        }
    }

    @Test
    void tilesPrintAndParseBack() {
        for (CpuDeviceGemm.Params p : CpuDeviceGemm.candidates(new CpuDeviceGemm.Problem(1, 64, 64, 64, true, false, true), cpuLimitsOffline()))
            assertEquals(p, CpuDeviceGemm.Params.parse(p.toString()));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> CpuDeviceGemm.Params.parse("outer 6x2xfloat3 group 1x1"));
        assertTrue(e.getMessage().contains("float3"), e.getMessage());
    }

    @Test
    void aTunedTileThatDoesNotSuitTheProblemIsReplacedOrFitted() {
        DeviceLimits l = cpuLimitsOffline().withMaxWorkGroupSize(8);
        CpuDeviceGemm.Problem outer = new CpuDeviceGemm.Problem(1, 64, 64, 64, true, true, false);
        assertEquals(CpuDeviceGemm.defaults(outer, l), CpuDeviceGemm.choose(outer, CpuDeviceGemm.Params.parse("dot 4x4xfloat16 group 1x1"), l));
        CpuDeviceGemm.Params big = CpuDeviceGemm.choose(outer, CpuDeviceGemm.Params.parse("outer 6x2xfloat16 group 16x16"), l);
        assertTrue(big.group() * big.groupM() <= 8, big.toString());
        assertEquals(CpuDeviceGemm.Params.parse("outer 6x2xfloat16 group 1x1"), CpuDeviceGemm.choose(outer, CpuDeviceGemm.Params.parse("outer 6x2xfloat16 group 1x1"), l));
        CpuDeviceGemm.Problem gemv = new CpuDeviceGemm.Problem(1, 1, 300, 64, true, false, true);
        assertEquals(1, CpuDeviceGemm.defaults(gemv, cpuLimitsOffline()).groupM(), "one row: no clamped copies of it");
    }

    private static DeviceLimits cpuLimitsOffline() {
        return new DeviceLimits(4096, new long[]{4096, 4096, 4096}, 1 << 20, 16, 2, 1L << 31, 1L << 33).withType(DeviceInfo.Type.CPU);
    }
}
