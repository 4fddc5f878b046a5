package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inverted-residual op (expansion + depthwise + projection) on the CPU against the reference,
 * through both lowerings: streamed through the ring of expanded rows (tall images, narrow input)
 * and composed (the expansion stored, then dw+pw), run until C2 has compiled the kernels.
 */
class ExpandDwPwCpuTest {
    private static final Act RELU6 = Act.clip(0, 6);

    /** x[n,cin,h,w] through one op of the given geometry; the residual (when asked) is x itself, so out == cin and stride 1. */
    private static OpCase block(long seed, int n, int cin, int mid, int out, int h, int w, int k, int stride, int[] pad, int dil, boolean residual) {
        OpCase.Builder c = new OpCase.Builder("mbconv", seed, 0);
        String x = c.namedInput("x", 1f, n, cin, h, w);
        Epilogue epi = residual ? Epilogue.of(Epilogue.ADD) : Epilogue.NONE;
        FusedExpandDwPwConv f = new FusedExpandDwPwConv(new int[]{stride, stride}, pad, new int[]{dil, dil}, RELU6, RELU6, epi);
        List<String> ops = new java.util.ArrayList<>(List.of(x, c.weight(0.5f, mid, cin, 1, 1), c.weight(mid),
                c.weight(0.5f, mid, 1, k, k), c.weight(mid), c.weight(0.3f, out, mid, 1, 1), c.weight(out)));
        if (residual) ops.add(x);
        return c.build(c.add(f, ops));
    }

    /** Runs cs until C2 has compiled its kernels, checking along the way; returns its kernel steps' names. */
    private static List<String> check(OpCase cs, int calls) {
        Map<String, HostTensor> in = cs.draw(5);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i <= calls; i++) {
                HostTensor got = exe.run(in).values().iterator().next();
                if (i % 500 == 0) assertTrue(got.relativeL2Error(want) < 1e-5, "call " + i + ": " + got.relativeL2Error(want));
            }
            return ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep)
                    .map(s -> ((Step.KernelStep) s).name()).toList();
        }
    }

    private static boolean streamed(List<String> steps) {
        return steps.size() == 1 && steps.getFirst().contains("[DwPwKernel]");
    }

    @Test void streamsStrideOneWithResidualOddSizesAndChannelTails() {
        // 13 expanded channels: one block of 8 and 5 single ones; width 37: a whole pixel tile and a part one
        List<String> steps = check(block(1, 1, 5, 13, 5, 19, 37, 3, 1, new int[]{1, 1, 1, 1}, 1, true), 1500);
        assertTrue(streamed(steps), steps.toString());
    }

    @Test void streamsStrideTwoWithTwoImages() {
        List<String> steps = check(block(2, 2, 16, 24, 7, 31, 29, 3, 2, new int[]{1, 1, 1, 1}, 1, false), 1500);
        assertTrue(streamed(steps), steps.toString());
    }

    @Test void streamsAsymmetricPaddingDilationAndAWideKernel() {
        List<String> steps = check(block(3, 1, 3, 10, 9, 21, 17, 5, 1, new int[]{2, 0, 3, 4}, 2, false), 1000);
        assertTrue(streamed(steps), steps.toString());
    }

    @Test void composesOnSmallImagesAndWideInputs() {
        List<String> small = check(block(4, 1, 8, 20, 8, 7, 7, 3, 1, new int[]{1, 1, 1, 1}, 1, true), 1000);
        assertTrue(!streamed(small) && small.stream().anyMatch(s -> s.contains("[DwPwKernel]")), small.toString());
        List<String> wide = check(block(5, 1, 64, 72, 11, 15, 15, 3, 2, new int[]{1, 1, 1, 1}, 1, false), 600);
        assertTrue(!streamed(wide), wide.toString());
    }

    @Test void splitKeepsEnoughTasksAndWholeTiles() {
        var f = new FusedExpandDwPwConv(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, RELU6, RELU6, Epilogue.NONE);
        ExpandDwPwLowering.Split s = ExpandDwPwLowering.split(1, 16, 96, 24, 112, 112, 56, 56, f, 3, 3);
        assertTrue(s.bands() >= 8, s.toString());
        int band = s.rows() * s.steps();
        assertTrue(band * s.bands() >= 56 && band * (s.bands() - 1) < 56, "the bands cover the 56 rows, none empty: " + s);
        assertTrue(s.steps() > 1, "a band steps over several row groups, reusing the expanded rows its taps share: " + s);
    }

    /** Once C2 has compiled the streaming kernel, a call allocates nothing (no boxed vector or mask in the ring's tiles). */
    @Test void steadyStateCallsDoNotAllocate() {
        OpCase cs = block(6, 1, 6, 19, 6, 17, 40, 3, 1, new int[]{1, 1, 1, 1}, 1, true);
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "1"))) {
            Map<String, HostTensor> in = cs.draw(3), out = new java.util.LinkedHashMap<>();
            for (String o : cs.graph().outputs()) out.put(o, HostTensor.zeros(cs.graph().typeOf(o).shape()));
            long perCall = SteadyAllocation.bytesPerCall(exe, in, out, 200, 100, 0);
            assertEquals(0, perCall, "bytes allocated per call");
        }
    }
}
