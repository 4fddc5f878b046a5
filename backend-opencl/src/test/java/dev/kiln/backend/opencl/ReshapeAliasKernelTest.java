package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reshape of an intermediate is an alias: no kernel launched, its view is the operand's storage. */
class ReshapeAliasKernelTest {
    @Test void flattenBeforeALinearLayerLaunchesNoKernel() {
        TestGraph t = new TestGraph("flatten");
        String a = t.op(Conv2d.of(0, 1), t.input(2, 8, 3, 3), t.weight(6, 8, 1, 1), t.weight(6));
        String f = t.op(new Reshape(2, 54), a);
        Graph g = t.returning(t.op(new Linear(Epilogue.of(Act.RELU)), f, t.weight(5, 54), t.weight(5)));
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            assertEquals(e.layout().of(a).offset(), e.layout().of(f).offset(), "the flatten reads the conv's bytes");
            assertTrue(e.kernels().get(1).isEmpty(), e.kernels().get(1).source());
            assertFalse(Lowering.program(e.kernels()).contains("k1_reshape"));
        }
        assertMatchesReference(g, 1);
    }

    /** %a's bytes outlive its own last reader (the reshape) while %f is read after %b is written. */
    @Test void aliasedBytesStayLiveUntilTheAliasIsRead() {
        TestGraph t = new TestGraph("lifetime");
        String x = t.input(1, 4, 5, 5);
        String f = t.op(new Reshape(4, 25), t.op(Unary.of(Unary.Kind.RELU), x));
        String b = t.op(Unary.of(Unary.Kind.SIGMOID), t.op(Unary.of(Unary.Kind.TANH), x));
        String g2 = t.op(new Reshape(4, 25), t.op(new Reshape(100), b));
        assertMatchesReference(t.returning(t.op(new Binary(Binary.Kind.ADD), f, g2)), 2);
    }

    @Test void reshapeOfAHaloedOperandIsStillACopy() {
        TestGraph t = new TestGraph("halo");
        String a = t.op(Unary.of(Unary.Kind.RELU), t.input(1, 3, 4, 4));
        String p = t.op(Conv2d.of(1, 1), a, t.weight(3, 3, 3, 3));
        String f = t.op(new Reshape(3, 16), a);
        Graph g = t.returning(p, t.op(Unary.of(Unary.Kind.TANH), f));
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            assertFalse(e.kernels().get(2).isEmpty(), "the reshape copies out of the halo");
        }
        assertMatchesReference(g, 3);
    }
}
