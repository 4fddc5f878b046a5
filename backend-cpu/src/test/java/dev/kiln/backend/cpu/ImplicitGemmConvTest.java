package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Conv2d;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The implicit-GEMM conv's three ways, each checked against the reference and by the steps it
 * lowers to: columns packed per task (stride 2, tiles crossing output rows), packed once into
 * scratch when several row chunks share the tiles, and a result stored inside its halo (a padded
 * conv reads it) with no copy into the halo.
 */
class ImplicitGemmConvTest {
    @Test void stridedConvWithTilesCrossingRowsPacksPerTask() {
        OpCase.Builder c = new OpCase.Builder("strided", 3, 0);
        String x = c.namedInput("x", 1f, 1, 5, 45, 43);   // 23×22 outputs: 16 column tiles, each crossing rows
        OpCase cs = c.build(c.add(new Conv2d(Ints.of(2, 2), Ints.filled(4, 1), Ints.of(1, 1), 1), x, c.weight(64, 5, 3, 3), c.weight(64)));
        List<String> steps = check(cs);
        assertTrue(steps.stream().anyMatch(s -> s.startsWith("conv2d") && s.endsWith("[GemmKernel]")), steps.toString());
        assertFalse(steps.stream().anyMatch(s -> s.contains("(pack columns)")), "per-task packing expected: " + steps);
    }

    @Test void sharedTilesArePackedOnceAndAHaloedResultIsStoredInPlace() {
        OpCase.Builder c = new OpCase.Builder("packed", 5, 0);
        String x = c.namedInput("x", 1f, 1, 16, 6, 6);
        // 16 outputs are two row blocks over two column tiles: two row chunks would pack the same tiles
        String v = c.add(Conv2d.of(1, 1), x, c.weight(16, 16, 3, 3), c.weight(16));
        OpCase cs = c.build(c.add(Conv2d.of(1, 1), v, c.weight(3, 16, 3, 3), c.weight(3)));
        List<String> steps = check(cs);
        assertTrue(steps.stream().anyMatch(s -> s.contains("(pack columns)")), steps.toString());
        assertFalse(steps.stream().anyMatch(s -> s.contains("(into halo)")), steps.toString());
    }

    /** Runs the case a few times (inputs reused, arena reused) against the reference; returns the kernel steps' names. */
    private static List<String> check(OpCase cs) {
        Map<String, HostTensor> in = cs.draw(7);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i < 3; i++) {
                HostTensor got = exe.run(in).values().iterator().next();
                assertTrue(got.relativeL2Error(want) < 1e-5, "call " + i + ": " + got.relativeL2Error(want));
            }
            return ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name()).toList();
        }
    }
}
