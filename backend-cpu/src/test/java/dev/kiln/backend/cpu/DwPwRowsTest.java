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

/** The fused depthwise+pointwise kernel's tasks of several output rows and chunks of output channels: how it splits, and that it computes what the reference does. */
class DwPwRowsTest {
    private static final int NR = GemmLowering.NR;

    @Test void rowsFillWholePixelTiles() {
        ConvLowering.DwPwSplit s = ConvLowering.dwPwSplit(1, 32, 64, 56, 56, 9);
        assertEquals(0, s.rows() * 56 % NR, s + " leaves part of a " + NR + "-pixel tile idle");
        assertTrue((56 + s.rows() - 1) / s.rows() * s.outChunks() >= 8, "at least 8 tasks: " + s);
        ConvLowering.DwPwSplit wide = ConvLowering.dwPwSplit(1, 64, 64, 112, 112, 9);
        assertEquals(0, wide.rows() * 112 % NR, wide.toString());
    }

    @Test void smallImagesSplitOutputChannelsAndWideChannelsKeepTheScratchSmall() {
        ConvLowering.DwPwSplit last = ConvLowering.dwPwSplit(1, 960, 320, 7, 7, 9);
        // MobileNetV2's last block: 2 pixel tiles over the 7x7 image (not 7 one-row tiles), 8 tasks from output-channel chunks
        int r = last.rows(), tiles = 7 / r * ((r * 7 + NR - 1) / NR) + (7 % r * 7 + NR - 1) / NR;
        assertEquals(2, tiles, last.toString());
        assertTrue((7 + r - 1) / r * last.outChunks() >= 8, last.toString());
        assertTrue(ConvLowering.dwPwSplit(8, 64, 64, 14, 14, 9).outChunks() == 1, "8 images give the tasks");
        assertEquals(1, ConvLowering.dwPwSplit(1, 4096, 64, 56, 56, 9).rows(), "two rows of 4096 channels exceed the 128 KiB scratch");
        assertEquals(new ConvLowering.DwPwSplit(1, 1), ConvLowering.dwPwSplit(1, 3, 5, 1, 7, 9), "one row, one block: one task");
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
        assertTrue(ConvLowering.dwPwSplit(2, 5, 7, 40, 13, 9).rows() > 1, "the case must group rows");
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
