package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** FusedExpandDwPwConv (expansion recomputed in the dw+pw GEMM's B loader) against the reference interpreter. */
class ExpandDwPwKernelsTest {
    private static final Act RELU6 = Act.clip(0, 6);

    @Test
    void strideOneWithResidualOddSizes() {
        TestGraph t = new TestGraph("mbconv");
        String x = t.input(1, 5, 11, 9);
        String y = t.op(new FusedExpandDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, RELU6, RELU6, Epilogue.of(Epilogue.ADD)),
                x, t.weight(13, 5, 1, 1), t.weight(13), t.weight(13, 1, 3, 3), t.weight(13), t.weight(5, 13, 1, 1), t.weight(5), x);
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void strideTwoAsymmetricPaddingDilationTwoImages() {
        TestGraph t = new TestGraph("mbconv-s2");
        String x = t.input(2, 3, 12, 13);
        // a bias far from zero in the expansion: the padding must be zeros, not the activation of the bias
        String y = t.op(new FusedExpandDwPwConv(new int[]{2, 2}, new int[]{2, 0, 1, 2}, new int[]{2, 1}, Act.RELU, Act.leakyRelu(0.2f),
                        Epilogue.of(Act.GELU)), x, t.weight(18, 3, 1, 1), t.weight(18), t.weight(18, 1, 3, 3), t.weight(18), t.weight(7, 18, 1, 1), t.weight(7));
        assertMatchesReference(t.returning(y), 2);
    }
}
