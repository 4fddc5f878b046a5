package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Pool;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Convs whose epilogue ends with a pool, against the reference on 1 and 2 threads: the fused
 * path (ChannelGemmKernel in bands of pooled rows, no separate pool step) at cnn's shapes, with
 * odd sizes, overlapping windows across band edges, padding and ceil-mode-like windows hanging
 * past the plane, averages counting or not the padding, two images, a pooled result inside the
 * halo of the next padded conv; and the composed path (conv into scratch, then the pool kernel)
 * for convs the fused kernel does not take.
 */
class PooledConvTest {
    static Pool max(int k, int s, int... pad) { return new Pool(true, Ints.of(k, k), Ints.of(s, s), Ints.of(pad), false); }
    static Pool avg(int k, int s, boolean countPad, int... pad) { return new Pool(false, Ints.of(k, k), Ints.of(s, s), Ints.of(pad), countPad); }

    @Test void cnnConvReluMaxPoolTwiceFused() {
        OpCase.Builder c = new OpCase.Builder("cnn", 21, 0);
        String x = c.namedInput("x", 1f, 1, 3, 24, 24);
        String v = c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.RELU).then(max(2, 2, 0, 0, 0, 0))), x, c.weight(0.3f, 32, 3, 3, 3), c.weight(32));
        OpCase cs = c.build(c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.RELU).then(max(2, 2, 0, 0, 0, 0))), v, c.weight(0.1f, 64, 32, 3, 3), c.weight(64)));
        List<String> steps = check(cs);
        assertEquals(2, steps.stream().filter(s -> s.endsWith("[ChannelGemmKernel]")).count(), steps.toString());
        assertTrue(steps.stream().noneMatch(s -> s.contains("PoolKernel")), steps.toString());
    }

    @Test void overlappingPaddedWindowsOddSizesTwoImages() {
        OpCase.Builder c = new OpCase.Builder("odd", 22, 0);
        String x = c.namedInput("x", 1f, 2, 5, 13, 11);
        OpCase cs = c.build(c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.RELU).then(max(3, 2, 1, 1, 1, 1))), x, c.weight(0.3f, 32, 5, 3, 3), c.weight(32)));
        assertTrue(check(cs).stream().anyMatch(s -> s.endsWith("[ChannelGemmKernel]")));
    }

    @Test void ceilModeWindowsHangPastThePlane() {
        // SqueezeNet's stem: 3×3/2 max pool with ceil_mode, which the importer gives as bottom/right padding
        OpCase.Builder c = new OpCase.Builder("ceil", 23, 0);
        String x = c.namedInput("x", 1f, 1, 3, 29, 29);
        OpCase cs = c.build(c.add(new Conv2d(Ints.of(2, 2), Ints.filled(4, 0), Ints.of(1, 1), 1).withEpilogue(Epilogue.of(Act.RELU).then(max(3, 2, 0, 0, 1, 1))),
                x, c.weight(0.3f, 64, 3, 3, 3), c.weight(64)));
        check(cs);
    }

    @Test void averagesWithAndWithoutCountingPadding() {
        for (boolean countPad : new boolean[]{true, false}) {
            OpCase.Builder c = new OpCase.Builder("avg" + countPad, 24, 0);
            String x = c.namedInput("x", 1f, 1, 4, 10, 9);
            OpCase cs = c.build(c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.SIGMOID).then(avg(3, 2, countPad, 1, 1, 1, 1))), x, c.weight(0.3f, 32, 4, 3, 3), c.weight(32)));
            check(cs);
        }
    }

    @Test void pooledResultInsideTheNextConvsHalo() {
        OpCase.Builder c = new OpCase.Builder("halo", 25, 0);
        String x = c.namedInput("x", 1f, 1, 3, 16, 16);
        String v = c.add(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.RELU).then(max(2, 2, 0, 0, 0, 0))), x, c.weight(0.3f, 64, 3, 3, 3), c.weight(64));
        check(c.build(c.add(Conv2d.of(1, 1), v, c.weight(0.1f, 8, 64, 3, 3), c.weight(8))));
    }

    @Test void convsTheFusedKernelDoesNotTakeAreComposed() {
        OpCase.Builder c = new OpCase.Builder("composed", 26, 0);
        String x = c.namedInput("x", 1f, 1, 4, 12, 12);
        String v = c.add(Conv2d.of(1, 2).withEpilogue(Epilogue.of(Act.RELU).then(max(2, 2, 0, 0, 0, 0))), x, c.weight(0.3f, 8, 2, 3, 3), c.weight(8));
        List<String> steps = check(c.build(c.add(Conv2d.of(0, 1).withEpilogue(Epilogue.of(avg(2, 1, false, 0, 0, 1, 1))), v, c.weight(0.3f, 5, 8, 1, 1), c.weight(5))));
        assertEquals(2, steps.stream().filter(s -> s.endsWith("(pool) [PoolKernel]")).count(), steps.toString());
    }

    /** Random geometry (conv and pool windows, strides, padding, batch, channels, activation): fused or composed, it must match the reference. */
    @Test void randomGeometriesMatchTheReference() {
        for (int seed = 0; seed < 24; seed++) {
            OpCase.Builder c = new OpCase.Builder("random" + seed, 300 + seed, seed);
            int kh = c.between(1, 3), s = c.between(1, 2), pad = c.between(0, 1), h = c.between(kh + 3, 17), w = c.between(kh + 3, 19);
            int cin = c.between(1, 6), o = c.pick(8, 32, 48, 64), images = c.between(1, 2);
            int pk = c.between(1, 3), ps = c.between(1, 3), pp = c.between(0, pk - 1);   // padding up to kernel-1: more pooled than conv pixels
            int oh = (h + 2 * pad - kh) / s + 1, ow = (w + 2 * pad - kh) / s + 1;
            if (oh + 2 * pp < pk || ow + 2 * pp < pk) continue;
            Pool pool = c.coin() ? max(pk, ps, pp, pp, pp, pp) : avg(pk, ps, c.coin(), pp, pp, pp, pp);
            String x = c.namedInput("x", 1f, images, cin, h, w);
            Conv2d conv = new Conv2d(Ints.of(s, s), Ints.filled(4, pad), Ints.of(1, 1), 1).withEpilogue(Epilogue.of(c.coin() ? Act.RELU : Act.TANH).then(pool));
            check(c.build(c.add(conv, x, c.weight(0.3f, o, cin, kh, kh), c.weight(o))));
        }
    }

    /** Runs the case a few times on 1 and 2 threads (inputs and arena reused) against the reference; returns the kernel steps' names. */
    static List<String> check(OpCase cs) {
        Map<String, HostTensor> in = cs.draw(7);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        List<String> names = null;
        for (String threads : new String[]{"1", "2"})
            try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", threads))) {
                for (int i = 0; i < 3; i++) {
                    HostTensor got = exe.run(in).values().iterator().next();
                    assertTrue(got.relativeL2Error(want) < 1e-5, cs.graph().name() + ", " + threads + " threads, call " + i + ": " + got.relativeL2Error(want));
                }
                names = ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name()).toList();
            }
        return names;
    }
}
