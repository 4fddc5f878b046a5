package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;

/** torch.nn.Linear: weight[out, in], bias[out]; y = x·weightᵀ + bias over the last axis. */
public final class Linear extends Module {
    private final int in, out;
    private boolean bias = true;

    public Linear(int in, int out) {
        this.in = in;
        this.out = out;
        declare();
    }

    public Linear bias(boolean b) { bias = b; declare(); return this; }

    private void declare() {
        parameter("weight", Shape.of(out, in), Init.fanIn(Shape.of(out, in), in));
        if (bias) parameter("bias", Shape.of(out), Init.fanIn(Shape.of(out), in));
        else removeParameter("bias");
    }

    @Override public Tensor forward(Tensor x) {
        var op = new dev.kiln.ir.op.Linear();
        return bias ? call(op, x, param("weight"), param("bias")) : call(op, x, param("weight"));
    }
}
