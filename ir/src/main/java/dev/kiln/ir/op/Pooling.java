package dev.kiln.ir.op;

import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

/** The window shape rule shared by the pooling ops. */
final class Pooling {
    private Pooling() {}

    static TensorType outType(Op op, TensorType x, Ints kernel, Ints stride, Ints padding) {
        Checks.rank(op, "input", x, 4);
        Checks.require(padding.get(0) < kernel.get(0) && padding.get(2) < kernel.get(0) && padding.get(1) < kernel.get(1) && padding.get(3) < kernel.get(1), op,
                "padding must be smaller than the kernel");
        int oh = Checks.windowOut(x.dim(2), padding.get(0), padding.get(2), kernel.get(0), stride.get(0), 1);
        int ow = Checks.windowOut(x.dim(3), padding.get(1), padding.get(3), kernel.get(1), stride.get(1), 1);
        Checks.require(oh > 0 && ow > 0, op, "window " + kernel.get(0) + "x" + kernel.get(1) + " does not fit input " + x);
        return TensorType.f32(x.dim(0), x.dim(1), oh, ow);
    }
}
