package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;

/** Linear and MatMul (with and without an epilogue) against the reference interpreter. */
class MatrixKernelsTest {
    @Test
    void linearOverEveryLeadingAxis() {
        TestGraph t = new TestGraph("linear");
        String y = t.op(new Linear(), t.input(2, 3, 19), t.weight(11, 19), t.weight(11));
        String z = t.op(new Linear(), t.input(7), t.weight(3, 7));
        assertMatchesReference(t.returning(y, z), 1);
    }

    @Test
    void batchOneLinearWithALongReduction() {
        TestGraph t = new TestGraph("fc");
        String y = t.op(new Linear(Epilogue.of(Act.RELU)), t.input(1, 2304), t.weight(128, 2304), t.weight(128));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void fusedLinearEpilogues() {
        TestGraph t = new TestGraph("fused-linear");
        String x = t.input(5, 13);
        String a = t.op(new Linear(Epilogue.of(Act.GELU)), x, t.weight(13, 13), t.weight(13));
        String b = t.op(new Linear(Epilogue.of(Epilogue.ADD).then(Act.TANH)), a, t.weight(13, 13), t.weight(13), x);
        String c = t.op(new Linear(Epilogue.of(Act.SIGMOID).then(Epilogue.MUL)), b, t.weight(13, 13), t.weight(13), a);
        assertMatchesReference(t.returning(c), 3);
    }

    @Test
    void matMulBroadcastsBatchAxes() {
        TestGraph t = new TestGraph("matmul");
        String y = t.op(new MatMul(), t.input(2, 1, 3, 4), t.input(3, 4, 5));
        String z = t.op(new MatMul(), t.input(17, 33), t.input(33, 9));
        assertMatchesReference(t.returning(y, z), 4);
    }
}
