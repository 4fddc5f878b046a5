package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dense convs with small output planes, lowered to the GEMM vectorised along output channels
 * (ChannelGemmKernel), against the reference on 1 and 2 threads: 7-row tiles (49 = 7·7), 8-row
 * tiles (36 pixels), row blocks straddling two packed column tiles (14²), a partial last channel
 * tile, several K blocks with a partial last one, two images, a residual in the epilogue, and a
 * result stored inside the halo a following padded conv reads.
 */
class ChannelGemmConvTest {
    @Test void sevenBySevenWithResidualThenReluIntoAHaloReadByTheNextConv() {
        OpCase.Builder c = new OpCase.Builder("seven", 11, 0);
        String x = c.namedInput("x", 1f, 1, 16, 7, 7), r = c.namedInput("r", 1f, 1, 128, 7, 7);
        String v = c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Epilogue.ADD).then(Act.RELU)), x, c.weight(0.2f, 128, 16, 3, 3), c.weight(128), r);
        OpCase cs = c.build(c.add(Conv2d.of(1, 1), v, c.weight(0.05f, 128, 128, 3, 3), c.weight(128)));
        assertEquals(7, ChannelGemmLowering.rowsPerTile(49));
        assertEquals(ChannelGemmLowering.pays(128, 49) ? 2 : 0, channelSteps(check(cs)));
    }

    @Test void stridedTwoImagesPartialChannelTileAndSeveralKBlocks() {
        OpCase.Builder c = new OpCase.Builder("strided", 12, 0);
        String x = c.namedInput("x", 1f, 2, 16, 14, 14);   // K = 144: a full K block of 128 and a partial one
        OpCase cs = c.build(c.add(new Conv2d(Ints.of(2, 2), Ints.filled(4, 1), Ints.of(1, 1), 1).withEpilogue(Epilogue.of(Act.RELU)),
                x, c.weight(0.2f, 136, 16, 3, 3), c.weight(136)));
        assertEquals(ChannelGemmLowering.pays(136, 49) ? 1 : 0, channelSteps(check(cs)));
    }

    @Test void eightRowTilesAtSixBySix() {
        OpCase.Builder c = new OpCase.Builder("six", 13, 0);
        String x = c.namedInput("x", 1f, 1, 20, 6, 6);
        OpCase cs = c.build(c.add(Conv2d.of(1, 1), x, c.weight(0.2f, 128, 20, 3, 3), c.weight(128)));
        assertEquals(8, ChannelGemmLowering.rowsPerTile(36));
        assertEquals(ChannelGemmLowering.pays(128, 36) ? 1 : 0, channelSteps(check(cs)));
    }

    @Test void fourteenBySixteenRowBlocksStraddleColumnTiles() {
        OpCase.Builder c = new OpCase.Builder("fourteen", 14, 0);
        String x = c.namedInput("x", 1f, 1, 8, 14, 14);
        OpCase cs = c.build(c.add(Conv2d.of(1, 1), x, c.weight(0.3f, 128, 8, 3, 3), c.weight(128)));
        assertEquals(ChannelGemmLowering.pays(128, 196) ? 1 : 0, channelSteps(check(cs)));
    }

    /** Where the pixels fill their tiles (8×8 = 64 = two tiles of 32) the pixel-vectorised GEMM stays. */
    @Test void fullPixelTilesKeepTheGemmKernel() {
        assertTrue(!ChannelGemmLowering.pays(512, 2 * GemmLowering.NR));
        assertTrue(!ChannelGemmLowering.pays(64, 49), "fewer than 4 channel tiles: not enough tasks");
    }

    /** Random geometry (kernel, stride, padding, dilation, batch, channel counts, epilogue): whatever it lowers to must match the reference. */
    @Test void randomGeometriesMatchTheReference() {
        for (int seed = 0; seed < 16; seed++) {
            OpCase.Builder c = new OpCase.Builder("random" + seed, 100 + seed, seed);
            int kh = c.between(1, 3), kw = c.between(1, 3), s = c.between(1, 2), d = c.between(1, 2), pad = c.between(0, 2);
            int h = c.between((kh - 1) * d + 1, 15), w = c.between((kw - 1) * d + 1, 15), cin = c.between(1, 12);
            int o = c.pick(128, 136, 160, 256), images = c.between(1, 2);
            String x = c.namedInput("x", 1f, images, cin, h, w);
            Conv2d conv = new Conv2d(Ints.of(s, s), Ints.filled(4, pad), Ints.of(d, d), 1);
            boolean residual = c.coin();
            String wt = c.weight(0.3f, o, cin, kh, kw), b = c.weight(o);
            OpCase cs;
            if (residual) {
                int oh = (h + 2 * pad - (kh - 1) * d - 1) / s + 1, ow = (w + 2 * pad - (kw - 1) * d - 1) / s + 1;
                String r = c.namedInput("r", 1f, images, o, oh, ow);
                cs = c.build(c.add(conv.withEpilogue(Epilogue.of(Epilogue.ADD).then(Act.RELU)), x, wt, b, r));
            } else cs = c.build(c.add(conv.withEpilogue(Epilogue.of(Act.SIGMOID)), x, wt, b));
            check(cs);
        }
    }

    private static long channelSteps(List<String> steps) { return steps.stream().filter(s -> s.endsWith("[ChannelGemmKernel]")).count(); }

    /** Runs the case a few times on 1 and 2 threads (inputs and arena reused) against the reference; returns the kernel steps' names. */
    private static List<String> check(OpCase cs) {
        Map<String, HostTensor> in = cs.draw(7);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        List<String> names = null;
        for (String threads : new String[]{"1", "2"})
            try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", threads))) {
                for (int i = 0; i < 3; i++) {
                    HostTensor got = exe.run(in).values().iterator().next();
                    assertTrue(got.relativeL2Error(want) < 1e-5, threads + " threads, call " + i + ": " + got.relativeL2Error(want));
                }
                names = ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name()).toList();
            }
        return names;
    }
}
