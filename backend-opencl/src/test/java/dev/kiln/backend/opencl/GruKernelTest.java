package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** Gru, and both recurrent ops bidirectional (a work-group per batch element and direction), against the reference interpreter. */
class GruKernelTest {
    @Test
    void oneLayerSequenceFirstWithInitialState() {
        TestGraph t = new TestGraph("gru1");
        int h = 5, f = 3;
        String y = t.op(new Gru(h, 1, false, true, false), t.input(4, 2, f), t.input(1, 2, h),
                t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h));
        assertMatchesReference(t.returning(y), 1);
    }

    @Test
    void twoLayersBatchFirstReadTheLayerBelowInPlace() {
        TestGraph t = new TestGraph("gru2");
        int h = 7, f = 4;
        String y = t.op(new Gru(h, 2, true, false, false), t.input(3, 6, f),
                t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h),
                t.weight(3 * h, h), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void bidirectionalGruWritesBothHalvesOfEveryRow() {
        TestGraph t = new TestGraph("gru-bi");
        int h = 6, f = 3;
        String y = t.op(new Gru(h, 1, false, true, true), t.input(5, 2, f), t.input(2, 2, h),
                t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h),
                t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h));
        assertMatchesReference(t.returning(y), 3);
    }

    @Test
    void bidirectionalBatchFirstLstm() {
        TestGraph t = new TestGraph("lstm-bi");
        int h = 5, f = 4;
        String y = t.op(new Lstm(h, 1, true, false, true), t.input(2, 5, f),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        assertMatchesReference(t.returning(y), 4);
    }

    @Test
    void hiddenStatesWiderThanTheWorkGroup() {
        TestGraph t = new TestGraph("gru-wide");
        int h = 97, f = 2;
        String y = t.op(new Gru(h, 1, true, false, false), t.input(1, 3, f), t.weight(3 * h, f), t.weight(3 * h, h), t.weight(3 * h), t.weight(3 * h));
        assertMatchesReference(t.returning(y), 5);
    }
}
