package dev.kiln.ir.op;

/**
 * How a fused op's optional last operand ("extra", same shape as the result) joins its epilogue.
 * The full epilogue is: t = main + bias; ADD: t += extra; t = act(t); MUL: t *= extra.
 * ADD is a residual connection (ReLU(conv + x)); MUL is a gate (x · attention(x)).
 */
public enum Combine {
    NONE, ADD, MUL;

    /** Applies bias, extra and activation in the order the epilogue defines. */
    public double epilogue(double t, Activation act, float alpha, double extra) {
        if (this == ADD) t += extra;
        t = act.apply(t, alpha);
        if (this == MUL) t *= extra;
        return t;
    }
}
