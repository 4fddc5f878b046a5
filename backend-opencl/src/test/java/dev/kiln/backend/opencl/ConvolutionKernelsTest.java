package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedDwPwConv;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conv2d (with and without an epilogue) and FusedDwPwConv against the reference interpreter. */
class ConvolutionKernelsTest {
    static Conv2d conv(int[] stride, int[] padding, int[] dilation, int groups) { return new Conv2d(stride, padding, dilation, groups); }

    @Test
    void convolutionWithStrideAsymmetricPaddingAndDilation() {
        TestGraph t = new TestGraph("strided");
        String x = t.input(2, 3, 11, 13);
        String y = t.op(conv(new int[]{2, 1}, new int[]{1, 2, 0, 1}, new int[]{2, 1}, 1), x, t.weight(5, 3, 3, 2), t.weight(5));
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void convolutionWithoutBias() {
        TestGraph t = new TestGraph("nobias");
        String y = t.op(Conv2d.of(0, 1), t.input(1, 4, 5, 5), t.weight(7, 4, 3, 3));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void groupedConvolutionComputesEachGroupAsItsOwnGemm() {
        TestGraph t = new TestGraph("grouped");
        String y = t.op(Conv2d.of(1, 3), t.input(1, 6, 7, 5), t.weight(9, 2, 3, 3), t.weight(9));
        assertMatchesReference(t.returning(y), 3);
    }

    @Test
    void depthwiseConvolutionWithChannelMultiplier() {
        TestGraph t = new TestGraph("depthwise");
        String x = t.input(1, 3, 10, 9);
        String y = t.op(conv(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 3), x, t.weight(6, 1, 3, 3), t.weight(6));
        assertMatchesReference(t.returning(y), 4);
    }

    @Test
    void fusedConvolutionAddsTheResidualBeforeItsActivation() {
        TestGraph t = new TestGraph("residual");
        String x = t.input(1, 4, 6, 6);
        String y = t.op(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Epilogue.ADD).then(Act.RELU)),
                x, t.weight(4, 4, 3, 3), t.weight(4), x);
        assertMatchesReference(t.returning(y), 5);
    }

    @Test
    void fusedConvolutionGatesAfterItsActivation() {
        TestGraph t = new TestGraph("gated");
        String x = t.input(1, 3, 5, 7), gate = t.input(1, 2, 5, 7);
        String y = t.op(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.leakyRelu(0.1f)).then(Epilogue.MUL)),
                x, t.weight(2, 3, 3, 3), t.weight(2), gate);
        String z = t.op(new Conv2d(new int[]{1, 1}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1, Epilogue.of(Act.GELU)),
                y, t.weight(3, 2, 1, 1), t.weight(3));
        String s = t.op(new Conv2d(new int[]{1, 1}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1, Epilogue.of(Act.SIGMOID)),
                z, t.weight(1, 3, 1, 1), t.weight(1));
        assertMatchesReference(t.returning(s), 6);
    }

    @Test
    void aPaddedConvolutionReadsItsHaloedOperandWithoutBoundsChecks() {
        TestGraph t = new TestGraph("halo");
        String x = t.input(1, 3, 8, 8);
        String a = t.op(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.TANH)),
                x, t.weight(4, 3, 3, 3), t.weight(4));
        String b = t.op(Conv2d.of(1, 1), a, t.weight(2, 4, 3, 3), t.weight(2));
        Graph g = t.returning(b);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            assertArrayEquals(new int[]{1, 1, 1, 1}, e.layout().of(a).halo(), "the intermediate is planned with a halo");
            assertArrayEquals(new int[]{1, 1, 1, 1}, e.layout().of("x0").halo(), "so is the input read by a padded conv");
            for (Kernel k : e.kernels()) assertFalse(k.source().contains("iy >= 0"), k.name() + " checks bounds:\n" + k.source());
        }
        assertMatchesReference(g, 7);
    }

    @Test
    void aConvolutionWhoseInputIsAGraphOutputChecksBounds() {
        TestGraph t = new TestGraph("checked");
        String a = t.op(Conv2d.of(0, 1), t.input(1, 2, 5, 5), t.weight(3, 2, 1, 1));
        String b = t.op(Conv2d.of(1, 1), a, t.weight(2, 3, 3, 3));
        Graph g = t.returning(a, b);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            assertTrue(e.kernels().get(1).source().contains("iy >= 0"));
        }
        assertMatchesReference(g, 8);
    }

    @Test
    void fusedDepthwisePointwiseKeepsTheDepthwiseTileInLocalMemory() {
        TestGraph t = new TestGraph("dwpw");
        String x = t.input(1, 5, 9, 11);
        String y = t.op(new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, Act.RELU,
                Epilogue.NONE), x, t.weight(5, 1, 3, 3), t.weight(5), t.weight(7, 5, 1, 1), t.weight(7));
        Graph g = t.returning(y);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            String src = e.kernels().getFirst().source();
            assertTrue(src.contains("__local float Bs["), src);
            assertTrue(src.contains("v = " + Code.activation(Act.RELU, "s") + ";"), "the depthwise activation is applied as the tile is staged:\n" + src);
        }
        assertMatchesReference(g, 9);
    }

    @Test
    void fusedDepthwisePointwiseWithStrideDilationAndResidual() {
        TestGraph t = new TestGraph("dwpw-residual");
        String x = t.input(2, 3, 12, 10), res = t.input(2, 4, 5, 5);
        String y = t.op(new FusedDwPwConv(new int[]{2, 2}, new int[]{1, 0, 0, 1}, new int[]{2, 1}, Act.leakyRelu(0.2f),
                        Epilogue.of(Epilogue.ADD).then(Act.RELU)), x, t.weight(3, 1, 3, 3), t.weight(3), t.weight(4, 3, 1, 1), t.weight(4), res);
        assertMatchesReference(t.returning(y), 10);
    }

    @Test
    void aLargeConvolutionSpansSeveralTilesInEveryDimension() {
        TestGraph t = new TestGraph("large");
        String y = t.op(Conv2d.of(1, 1), t.input(1, 37, 23, 29), t.weight(67, 37, 3, 3), t.weight(67));
        Graph g = t.returning(y);
        try (Executable e = OpenClTesting.compile(g)) {
            Kernel k = ((OpenClExecutable) e).kernels().getFirst();
            assertTrue(k.global()[0] > k.local()[0] && k.global()[1] > k.local()[1], "several work-groups per axis");
        }
        assertMatchesReference(g, 11);
    }
}
