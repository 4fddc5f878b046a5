package dev.kiln.ir.op;

import dev.kiln.ir.TensorType;

/** The window shape rule shared by the pooling ops. */
final class Pooling {
    private Pooling() {}

    static TensorType outType(Op op, TensorType x, int[] kernel, int[] stride, int[] padding) {
        Checks.rank(op, "input", x, 4);
        Checks.require(padding[0] < kernel[0] && padding[2] < kernel[0] && padding[1] < kernel[1] && padding[3] < kernel[1], op,
                "padding must be smaller than the kernel");
        int oh = Checks.windowOut(x.dim(2), padding[0], padding[2], kernel[0], stride[0], 1);
        int ow = Checks.windowOut(x.dim(3), padding[1], padding[3], kernel[1], stride[1], 1);
        Checks.require(oh > 0 && ow > 0, op, "window " + kernel[0] + "x" + kernel[1] + " does not fit input " + x);
        return TensorType.f32(x.dim(0), x.dim(1), oh, ow);
    }
}
