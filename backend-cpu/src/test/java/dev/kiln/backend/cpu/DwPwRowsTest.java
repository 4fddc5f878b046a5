package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedDwPwConv;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused depthwise+pointwise kernel's tasks of several output rows: how many rows, and that they compute what the reference does. */
class DwPwRowsTest {
    private static final int NR = GemmLowering.NR;

    @Test void rowsFillWholePixelTiles() {
        int r = ConvLowering.dwPwRows(1, 32, 56, 56);
        assertEquals(0, r * 56 % NR, "rows " + r + " of 56 leave part of a " + NR + "-pixel tile idle");
        assertTrue(r <= 56 / 8, "at least 8 tasks: " + r);
        assertEquals(0, ConvLowering.dwPwRows(1, 64, 112, 112) * 112 % NR);
    }

    @Test void smallImagesKeepEightTasksAndWideChannelsKeepTheScratchSmall() {
        assertEquals(1, ConvLowering.dwPwRows(1, 64, 14, 14), "14 rows, 8 tasks: one row each");
        assertTrue(ConvLowering.dwPwRows(8, 64, 14, 14) > 1, "8 images give the tasks, so rows can group");
        assertEquals(1, ConvLowering.dwPwRows(1, 4096, 56, 56), "two rows of 4096 channels exceed the 128 KiB scratch");
        assertEquals(1, ConvLowering.dwPwRows(1, 3, 1, 7));
    }

    /**
     * Tasks of several rows whose tiles cross output rows, stored into a haloed output (a padded
     * conv reads it) with a residual from a contiguous input, run until C2 has compiled the kernel.
     */
    @Test void severalRowsPerTaskIntoAHaloMatchTheReferenceUnderC2() {
        OpCase.Builder c = new OpCase.Builder("rows", 11, 0);
        String x = c.namedInput("x", 1f, 2, 5, 40, 13), res = c.namedInput("res", 1f, 2, 7, 40, 13);
        FusedDwPwConv f = new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1},
                Act.RELU, Epilogue.of(Epilogue.ADD).then(Act.NONE));
        String v = c.add(f, x, c.weight(5, 1, 3, 3), c.weight(5), c.weight(7, 5, 1, 1), c.weight(7), res);
        OpCase cs = c.build(c.add(Conv2d.of(1, 1), v, c.weight(3, 7, 3, 3), c.weight(3)));
        assertTrue(ConvLowering.dwPwRows(2, 5, 40, 13) > 1, "the case must group rows");
        Map<String, HostTensor> in = cs.draw(5);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i <= 2000; i++) {
                HostTensor got = exe.run(in).values().iterator().next();
                if (i % 500 == 0) assertTrue(got.relativeL2Error(want) < 1e-5, "call " + i + ": " + got.relativeL2Error(want));
            }
            List<String> steps = ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep)
                    .map(s -> ((Step.KernelStep) s).name()).toList();
            assertTrue(steps.stream().anyMatch(s -> s.contains("[DwPwKernel]")), steps.toString());
        }
    }
}
