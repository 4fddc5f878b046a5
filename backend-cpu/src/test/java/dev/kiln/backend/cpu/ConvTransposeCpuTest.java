package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.Epilogue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transposed conv's GEMM + col2im lowering against the reference, across its attributes. */
class ConvTransposeCpuTest {
    private static ConvTranspose2d op(int sh, int sw, int[] pad, int oph, int opw, int dh, int dw, int groups, Epilogue e) {
        return new ConvTranspose2d(Ints.of(sh, sw), Ints.of(pad), Ints.of(oph, opw), Ints.of(dh, dw), groups, e);
    }

    @Test void dcganLayerIsAGemmAndACol2im() {
        OpCase.Builder c = new OpCase.Builder("dcgan", 1, 0);
        String x = c.namedInput("x", 1f, 1, 64, 16, 16);
        OpCase cs = c.build(c.add(op(2, 2, new int[]{1, 1, 1, 1}, 0, 0, 1, 1, 1, Epilogue.of(Act.RELU)), x, c.weight(0.1f, 64, 32, 4, 4), c.weight(32)));
        List<String> steps = check(cs);
        assertTrue(steps.stream().anyMatch(s -> s.contains("(columns)") && s.endsWith("[GemmKernel]")), steps.toString());
        assertTrue(steps.stream().anyMatch(s -> s.endsWith("[Col2imKernel]")), steps.toString());
    }

    @Test void latentToFourByFourWithoutBias() {
        OpCase.Builder c = new OpCase.Builder("latent", 2, 0);
        String x = c.namedInput("x", 1f, 2, 16, 1, 1);
        check(c.build(c.add(op(1, 1, new int[4], 0, 0, 1, 1, 1, Epilogue.NONE), x, c.weight(16, 32, 4, 4))));
    }

    @Test void stridesPaddingsOutputPaddingDilationAndGroups() {
        int[][] cases = {   // sh, sw, pt, pl, pb, pr, oph, opw, dh, dw, groups, c, og, k, h, w, images
                {2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 5, 3, 7, 9, 1},
                {3, 2, 0, 2, 1, 0, 2, 1, 1, 2, 2, 4, 3, 3, 5, 6, 2},
                {1, 3, 2, 0, 0, 1, 0, 2, 2, 1, 4, 8, 2, 2, 4, 19, 1},
                {2, 1, 0, 0, 0, 0, 0, 0, 3, 3, 1, 5, 9, 3, 3, 33, 2},
                {2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 16, 16, 1, 2, 5, 5, 1},   // depthwise-like: one in, one out per group
                {1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 7, 12, 3, 17, 17, 1},
        };
        for (int[] k : cases) {
            OpCase.Builder c = new OpCase.Builder("ct", 3, 0);
            String x = c.namedInput("x", 1f, k[16], k[11], k[14], k[15]);
            ConvTranspose2d t = op(k[0], k[1], new int[]{k[2], k[3], k[4], k[5]}, k[6], k[7], k[8], k[9], k[10], Epilogue.NONE);
            check(c.build(c.add(t, x, c.weight(k[11], k[12], k[13], k[13]), c.weight(k[12] * k[10]))));
        }
    }

    @Test void epilogueWithResidualAndRuntimeWeight() {
        OpCase.Builder c = new OpCase.Builder("residual", 4, 0);
        String x = c.namedInput("x", 1f, 2, 6, 5, 5), w = c.namedInput("w", 1f, 6, 4, 3, 3);
        ConvTranspose2d t = op(2, 2, new int[]{1, 1, 1, 1}, 1, 1, 1, 1, 2, Epilogue.of(Act.TANH).then(Epilogue.ADD).then(Act.RELU));
        String r = c.namedInput("r", 1f, 2, 8, 10, 10);
        check(c.build(c.add(t, x, w, c.weight(8), r)));
    }

    @Test void resultReadByAPaddedConvIsWrittenInsideItsHalo() {
        OpCase.Builder c = new OpCase.Builder("halo", 5, 0);
        String x = c.namedInput("x", 1f, 1, 8, 6, 6);
        String up = c.add(op(2, 2, new int[]{1, 1, 1, 1}, 0, 0, 1, 1, 1, Epilogue.NONE), x, c.weight(8, 4, 4, 4), c.weight(4));
        check(c.build(c.add(Conv2d.of(1, 1), up, c.weight(3, 4, 3, 3), c.weight(3))));
    }

    /**
     * One object per call (64 bytes with the 64-byte alignment the tests run with) is tolerated: after some other tests
     * in the same JVM, this model's steady calls allocate exactly that (seen in the module suite and in CI on
     * 2026-12-07, never alone; README "Known problems"), while a boxed vector or mask in the GEMM or col2im loops
     * allocates per tile, kilobytes per call. CpuTargetModelsTest keeps the strict zero.
     */
    private static final long STRAY = 64;

    /** As CpuTargetModelsTest's check: once C2 has compiled the GEMM and col2im, a call allocates no boxed vector or mask. */
    @Test void steadyStateCallsDoNotAllocate() {
        OpCase.Builder c = new OpCase.Builder("alloc", 6, 0);
        String x = c.namedInput("x", 1f, 1, 16, 7, 9), r = c.namedInput("r", 1f, 1, 8, 20, 20);
        ConvTranspose2d t = op(3, 2, new int[]{1, 0, 1, 0}, 1, 1, 1, 1, 1, Epilogue.of(Act.RELU).then(Epilogue.ADD));
        OpCase cs = c.build(c.add(t, x, c.weight(16, 8, 3, 3), c.weight(8), r));
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "1"))) {
            Map<String, HostTensor> in = cs.draw(3), out = new java.util.LinkedHashMap<>();
            for (String o : cs.graph().outputs()) out.put(o, HostTensor.zeros(cs.graph().typeOf(o).shape()));
            long perCall = SteadyAllocation.bytesPerCall(exe, in, out, 200, 100, STRAY);
            org.junit.jupiter.api.Assertions.assertTrue(perCall <= STRAY, "bytes allocated per call: " + perCall);
        }
    }

    private static List<String> check(OpCase cs) {
        Map<String, HostTensor> in = cs.draw(7);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i < 3; i++) {
                HostTensor got = exe.run(in).values().iterator().next();
                assertTrue(got.relativeL2Error(want) < 1e-5, cs.graph().name() + " call " + i + ": " + got.relativeL2Error(want) + "\n" + cs.graph());
            }
            return ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name()).toList();
        }
    }
}
