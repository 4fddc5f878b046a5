package dev.kiln.ir.op;

/** The activation a fused op applies in its epilogue (NONE for the identity). */
public enum Activation {
    NONE, RELU, LEAKY_RELU, SIGMOID, TANH, GELU;

    public double apply(double x, float alpha) {
        return this == NONE ? x : Unary.Kind.valueOf(name()).apply(x, alpha);
    }

    /** The activation that a standalone Unary op would fuse as, or null if it cannot (EXP). */
    public static Activation of(Unary.Kind kind) {
        return kind == Unary.Kind.EXP ? null : valueOf(kind.name());
    }
}
