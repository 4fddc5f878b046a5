package dev.kiln.ir.op;

/**
 * How a fused op's optional last operand ("extra", same shape as the result) joins its epilogue.
 * The full epilogue is: t = main + bias; ADD: t += extra; t = act(t); MUL: t *= extra.
 * ADD is a residual connection (ReLU(conv + x)); MUL is a gate (x · attention(x)).
 */
public enum Combine {
    NONE, ADD, MUL;

    /**
     * Applies extra and activation in the order the epilogue defines, rounding to f32 after each
     * step as the unfused chain of f32 tensors does: a fused op must mean exactly its chain (in
     * double, σ(−614)·∞ = ∞, but the chain rounds σ(−614) to 0 first and gives NaN).
     */
    public double epilogue(double t, Act act, double extra) {
        if (this == ADD) t = (float) (t + extra);
        t = (float) act.apply((float) t);
        if (this == MUL) t *= extra;
        return t;
    }
}
