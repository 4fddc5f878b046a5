package dev.kiln.backend.opencl;

import dev.kiln.ir.Ints;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.Epilogue;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** ConvTranspose2d (one work-item per output, gathering its taps) against the reference interpreter. */
class ConvTransposeKernelTest {
    @Test
    void dcganUpsamplingWithReluEpilogue() {
        TestGraph t = new TestGraph("dcgan");
        ConvTranspose2d op = ConvTranspose2d.of(2, 1).withEpilogue(Epilogue.of(Act.RELU));
        String y = t.op(op, t.input(1, 8, 6, 6), t.weight(8, 4, 4, 4), t.weight(4));
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void asymmetricStridesCroppingOutputPaddingDilationAndGroupsWithoutBias() {
        TestGraph t = new TestGraph("general");
        ConvTranspose2d op = new ConvTranspose2d(Ints.of(3, 2), Ints.of(1, 0, 2, 1), Ints.of(2, 1), Ints.of(1, 2), 2);
        String y = t.op(op, t.input(2, 4, 5, 7), t.weight(4, 3, 3, 2));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void residualJoinsAfterTheActivation() {
        TestGraph t = new TestGraph("residual");
        ConvTranspose2d op = ConvTranspose2d.of(2, 0).withEpilogue(Epilogue.of(Act.TANH).then(Epilogue.ADD));
        String y = t.op(op, t.input(1, 3, 4, 4), t.weight(3, 2, 2, 2), t.weight(2), t.input(1, 2, 8, 8));
        assertMatchesReference(t.returning(y), 3);
    }
}
