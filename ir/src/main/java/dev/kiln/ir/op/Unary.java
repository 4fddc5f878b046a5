package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import dev.kiln.ir.op.ScalarExpr.Fn1;

import java.util.List;

import static dev.kiln.ir.op.ScalarExpr.Cmp.EQ;
import static dev.kiln.ir.op.ScalarExpr.Cmp.GT;
import static dev.kiln.ir.op.ScalarExpr.Cmp.LT;
import static dev.kiln.ir.op.ScalarExpr.X;
import static dev.kiln.ir.op.ScalarExpr.add;
import static dev.kiln.ir.op.ScalarExpr.c;
import static dev.kiln.ir.op.ScalarExpr.clamp;
import static dev.kiln.ir.op.ScalarExpr.div;
import static dev.kiln.ir.op.ScalarExpr.expm1;
import static dev.kiln.ir.op.ScalarExpr.fn;
import static dev.kiln.ir.op.ScalarExpr.let;
import static dev.kiln.ir.op.ScalarExpr.mul;
import static dev.kiln.ir.op.ScalarExpr.ref;
import static dev.kiln.ir.op.ScalarExpr.select;
import static dev.kiln.ir.op.ScalarExpr.sigmoid;
import static dev.kiln.ir.op.ScalarExpr.softplus;
import static dev.kiln.ir.op.ScalarExpr.sub;

/**
 * An element-wise function of one tensor, y = act(x). The function and its parameters are an
 * {@link Act}, the same value a fused op applies in its epilogue.
 */
public record Unary(Act act) implements Op {
    /**
     * Every element-wise function Kiln knows, each defined once as a {@link ScalarExpr} of its
     * parameters a and b: the reference, both backends and every fused epilogue use that
     * definition. {@code params} is how many of a, b the function takes.
     */
    public enum Kind {
        /** The identity: what a fused op applies when it has no activation. */
        NONE(0),
        RELU(0),
        /** a: the negative slope. */
        LEAKY_RELU(1),
        SIGMOID(0),
        TANH(0),
        /** PyTorch's default (exact) GELU: x·Φ(x). */
        GELU(0),
        /** GELU's tanh approximation (PyTorch approximate='tanh'). */
        GELU_TANH(0),
        EXP(0),
        LOG(0),
        SQRT(0),
        ERF(0),
        ABS(0),
        NEG(0),
        RECIPROCAL(0),
        FLOOR(0),
        CEIL(0),
        /** Round half to even, as ONNX Round and torch.round. */
        ROUND(0),
        /** Rounds toward zero: a float cast to an integer type (ONNX Cast, torch .long()). */
        TRUNC(0),
        SIGN(0),
        /** a ≤ y ≤ b (ReLU6 is CLIP(0, 6)); NaN stays NaN. */
        CLIP(2),
        /** clamp(a·x + b, 0, 1); PyTorch's hardsigmoid is a = 1/6, b = 1/2. */
        HARD_SIGMOID(2),
        /** x · clamp(x/6 + 1/2, 0, 1). */
        HARD_SWISH(0),
        /** x · σ(x), also called swish. */
        SILU(0),
        /** x · tanh(softplus(x)). */
        MISH(0),
        /** x < 0 ? a·(eˣ − 1) : x. */
        ELU(1),
        /** b · (x < 0 ? a·(eˣ − 1) : x); ONNX's defaults are a = 1.67326…, b = 1.05070…. */
        SELU(2),
        SOFTPLUS(0),
        SOFTSIGN(0),
        /**
         * xᵃ for a constant exponent, as torch.pow computes it: {@link Math#pow}'s rules (a negative
         * base to an integer power is defined, to any other power NaN), except that PyTorch takes
         * 0.5 and −0.5 as √x and 1/√x, so (−∞)^0.5 is NaN there (C's pow says +∞) and (−0)^0.5 is −0.
         * 0, 1, 2, 3, 4, 0.5, −0.5 and −1 are written as products, a square root or a reciprocal;
         * others use the pow primitive.
         */
        POW(1),
        /**
         * Logical not of a mask: 1 where x is 0, else 0. Masks are f32 0/1 tensors (the IR has no bool
         * dtype); any non-zero x, NaN included, counts as true, as a float cast to bool does in C and PyTorch.
         */
        NOT(0);

        /** How many of the parameters (a, then b) the function takes; the others must be 0. */
        public final int params;

        Kind(int params) { this.params = params; }

        /** The function with parameters a and b, as an expression of X. */
        public ScalarExpr definition(float a, float b) {
            return switch (this) {
                case NONE -> X;
                case RELU -> select(LT, X, c(0), c(0), X);
                case LEAKY_RELU -> select(LT, X, c(0), mul(X, c(a)), X);
                case SIGMOID -> sigmoid(X);
                case TANH -> fn(Fn1.TANH, X);
                case GELU -> mul(mul(X, c(0.5)), add(c(1), fn(Fn1.ERF, mul(X, c(Math.sqrt(0.5))))));
                case GELU_TANH -> mul(mul(X, c(0.5)), add(c(1), fn(Fn1.TANH,
                        mul(c(Math.sqrt(2 / Math.PI)), add(X, mul(c(0.044715), mul(X, mul(X, X))))))));
                case EXP -> fn(Fn1.EXP, X);
                case LOG -> fn(Fn1.LOG, X);
                case SQRT -> fn(Fn1.SQRT, X);
                case ERF -> fn(Fn1.ERF, X);
                case ABS -> fn(Fn1.ABS, X);
                case NEG -> fn(Fn1.NEG, X);
                case RECIPROCAL -> div(c(1), X);
                case FLOOR -> fn(Fn1.FLOOR, X);
                case CEIL -> fn(Fn1.CEIL, X);
                case ROUND -> fn(Fn1.RINT, X);
                case TRUNC -> select(LT, X, c(0), fn(Fn1.CEIL, X), fn(Fn1.FLOOR, X));
                case SIGN -> select(GT, X, c(0), c(1), select(LT, X, c(0), c(-1), X));
                case CLIP -> clamp(X, a, b);
                case HARD_SIGMOID -> clamp(add(mul(X, c(a)), c(b)), 0, 1);
                case HARD_SWISH -> mul(X, clamp(add(mul(X, c(1.0 / 6)), c(0.5)), 0, 1));
                case SILU -> mul(X, sigmoid(X));
                case MISH -> mul(X, fn(Fn1.TANH, softplus(X)));
                case ELU -> select(LT, X, c(0), mul(c(a), expm1(X)), X);
                case SELU -> mul(c(b), select(LT, X, c(0), mul(c(a), expm1(X)), X));
                case SOFTPLUS -> softplus(X);
                case SOFTSIGN -> div(X, add(c(1), fn(Fn1.ABS, X)));
                case POW -> pow(a);
                case NOT -> select(EQ, X, c(0), c(1), c(0));
            };
        }

        /** Each special case is torch.pow(x, a) for every x, ±0, ±∞ and NaN included (see POW). */
        private static ScalarExpr pow(float a) {
            if (a == 0) return c(1);                     // pow(NaN, 0) is 1 too
            if (a == 1) return X;
            if (a == 2) return mul(X, X);
            if (a == 3) return mul(X, mul(X, X));
            if (a == 4) return let("p2", mul(X, X), mul(ref("p2"), ref("p2")));
            if (a == 0.5f) return fn(Fn1.SQRT, X);
            if (a == -0.5f) return div(c(1), fn(Fn1.SQRT, X));
            if (a == -1) return div(c(1), X);
            return ScalarExpr.pow(X, c(a));
        }

        /**
         * Whether the function is defined and continuous on every real (NaN and ±∞ aside): then a
         * backend's input that is a few ulps off the reference's gives an output a few ulps off.
         * FLOOR, CEIL, ROUND, TRUNC and SIGN jump, and LOG, SQRT, RECIPROCAL and a non-integer POW
         * change domain at 0; random graphs apply those only to exact inputs.
         */
        public boolean total(float a) {
            return switch (this) {
                case FLOOR, CEIL, ROUND, TRUNC, SIGN, LOG, SQRT, RECIPROCAL, NOT -> false;
                case POW -> a == Math.rint(a) && a >= 0;
                default -> true;
            };
        }

        /**
         * Whether its f32 evaluation is good to an absolute error of about one ulp of max(1, |x|)
         * rather than to a few ulps of the result: erf's approximation, eˣ − 1 and log(1 + e)
         * cancel where the result is small. Tests widen their tolerance by that much here.
         */
        public boolean absoluteError() {
            return switch (this) {
                case GELU, GELU_TANH, ERF, ELU, SELU, SOFTPLUS, MISH, HARD_SIGMOID, HARD_SWISH -> true;
                default -> false;
            };
        }

        /** The reference value of the function at x, in double. */
        public double apply(double x, float a, float b) { return definition(a, b).eval(x); }
    }

    public Unary {
        java.util.Objects.requireNonNull(act, "act");
        if (act.kind() == Kind.NONE) throw new IllegalArgumentException("a unary op needs a function, not none");
    }

    public static Unary of(Kind kind) { return new Unary(Act.of(kind)); }

    public static Unary of(Kind kind, float a) { return new Unary(Act.of(kind, a)); }

    public static Unary of(Kind kind, float a, float b) { return new Unary(Act.of(kind, a, b)); }

    public Kind kind() { return act.kind(); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        return in.get(0);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        ScalarExpr f = act.expr();
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) f.eval(x[i]);
        return HostTensor.of(in.get(0).shape(), y);
    }
}
