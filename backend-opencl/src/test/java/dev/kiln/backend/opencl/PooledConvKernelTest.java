package dev.kiln.backend.opencl;

import dev.kiln.ir.Ints;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Pool;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** Conv2d whose epilogue ends with a pool (max, average counting padding or not; windows at the borders; grouped; no bias) against the reference. */
class PooledConvKernelTest {
    static Pool max(int k, int s, int... pad) { return new Pool(true, Ints.of(k, k), Ints.of(s, s), Ints.of(pad), false); }

    @Test
    void convReluMaxPoolTwoByTwo() {
        TestGraph t = new TestGraph("cnn");
        String y = t.op(Conv2d.of(1, 1).withEpilogue(Epilogue.of(Act.RELU).then(max(2, 2, 0, 0, 0, 0))), t.input(2, 3, 9, 11), t.weight(8, 3, 3, 3), t.weight(8));
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void stridedConvThenOverlappingCeilModeMaxPool() {
        TestGraph t = new TestGraph("ceil");
        String y = t.op(new Conv2d(new int[]{2, 2}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1, Epilogue.of(Act.RELU).then(max(3, 2, 0, 0, 1, 1))),
                t.input(1, 3, 15, 15), t.weight(6, 3, 3, 3), t.weight(6));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void groupedConvWithoutBiasThenAveragePools() {
        for (boolean countPad : new boolean[]{true, false}) {
            TestGraph t = new TestGraph("avg" + countPad);
            Pool avg = new Pool(false, Ints.of(3, 3), Ints.of(2, 2), Ints.of(1, 1, 1, 1), countPad);
            String y = t.op(Conv2d.of(1, 2).withEpilogue(Epilogue.of(Act.SIGMOID).then(avg)), t.input(1, 4, 8, 7), t.weight(6, 2, 3, 3));
            assertMatchesReference(t.returning(y), 3);
        }
    }
}
