package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Lstm;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** Lstm (all layers in one kernel, the recurrence in local memory) against the reference interpreter. */
class LstmKernelTest {
    @Test
    void oneLayerSequenceFirstWithInitialState() {
        TestGraph t = new TestGraph("lstm1");
        int h = 5, f = 3;
        String y = t.op(new Lstm(h, 1, false, true), t.input(4, 2, f), t.input(1, 2, h), t.input(1, 2, h),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void twoLayersBatchFirstReadTheLayerBelowInPlace() {
        TestGraph t = new TestGraph("lstm2");
        int h = 7, f = 4;
        String y = t.op(new Lstm(h, 2, true, false), t.input(3, 6, f),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h),
                t.weight(4 * h, h), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void hiddenStatesWiderThanTheWorkGroup() {
        TestGraph t = new TestGraph("lstm-wide");
        int h = 97, f = 2;
        String y = t.op(new Lstm(h, 1, true, false), t.input(1, 3, f), t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 3);
    }
}
