package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.VecMath;
import dev.kiln.ir.op.Activation;
import dev.kiln.ir.op.Combine;
import dev.kiln.ir.op.Unary;

/** Maps ir's activation kinds to the kernel codes in {@link VecMath}. */
final class VecMathCodes {
    private VecMathCodes() {}

    static int of(Unary.Kind k) {
        return switch (k) {
            case RELU -> VecMath.RELU;
            case LEAKY_RELU -> VecMath.LEAKY_RELU;
            case SIGMOID -> VecMath.SIGMOID;
            case TANH -> VecMath.TANH;
            case GELU -> VecMath.GELU;
            case EXP -> VecMath.EXP;
        };
    }

    static int of(Activation a) {
        return switch (a) {
            case NONE -> VecMath.NONE;
            case RELU -> VecMath.RELU;
            case LEAKY_RELU -> VecMath.LEAKY_RELU;
            case SIGMOID -> VecMath.SIGMOID;
            case TANH -> VecMath.TANH;
            case GELU -> VecMath.GELU;
        };
    }

    /** 0 none, 1 add before the activation, 2 multiply after it. */
    static int of(Combine c) { return c.ordinal(); }
}
