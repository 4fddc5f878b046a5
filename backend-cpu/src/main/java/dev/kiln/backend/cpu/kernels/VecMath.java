package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Activations on vectors and on scalars (for loop tails), with the same formulas so a lane
 * never depends on where it fell. Codes follow ir's Activation ordinals, plus EXP.
 *
 * <p>Accuracy against the double reference: ReLU/LeakyReLU exact; EXP and TANH use the Vector
 * API's intrinsics (SVML here, ≤ 1 ulp); sigmoid from exp(−|x|), which keeps its subnormal tail (≤ 2 ulp); GELU uses erf by
 * Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7 in erf, so ≤ 1e-7·|x| in GELU).
 */
public final class VecMath {
    public static final int NONE = 0, RELU = 1, LEAKY_RELU = 2, SIGMOID = 3, TANH = 4, GELU = 5, EXP = 6;

    private static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f, INV_SQRT2 = 0.70710678118654752f;

    private VecMath() {}

    /**
     * One method per activation, so a specialised kernel calls exactly one small method: the
     * specializer rewrites {@code apply(v, CONST, alpha)} into a call of the method named in
     * {@link #NAMES}, which C2 inlines where the 177-byte switch was refused.
     */
    public static final String[] NAMES = {"identity", "relu", "leakyRelu", "sigmoid", "tanh", "gelu", "exp"};

    public static FloatVector identity(FloatVector v, float alpha) { return v; }
    public static FloatVector relu(FloatVector v, float alpha) { return v.blend(0f, v.compare(VectorOperators.LT, 0f)); }
    public static FloatVector leakyRelu(FloatVector v, float alpha) { return v.blend(v.mul(alpha), v.compare(VectorOperators.LT, 0f)); }
    /**
     * σ(x) from e = exp(−|x|), which never overflows: 1/(1+e) for x ≥ 0 and e/(1+e) below, so
     * σ of a very negative x is the subnormal it should be (σ(−91) ≈ 3e−40, not 0: times ∞ that
     * is the difference between ∞ and NaN).
     */
    public static FloatVector sigmoid(FloatVector v, float alpha) {
        FloatVector e = v.abs().neg().lanewise(VectorOperators.EXP), r = inv(e.add(1f));
        return r.blend(e.mul(r), v.compare(VectorOperators.LT, 0f));
    }
    public static FloatVector tanh(FloatVector v, float alpha) { return v.lanewise(VectorOperators.TANH); }
    public static FloatVector gelu(FloatVector v, float alpha) { return v.mul(0.5f).mul(erf(v.mul(INV_SQRT2)).add(1f)); }
    public static FloatVector exp(FloatVector v, float alpha) { return v.lanewise(VectorOperators.EXP); }

    public static float identity(float x, float alpha) { return x; }
    public static float relu(float x, float alpha) { return x < 0f ? 0f : x; }
    public static float leakyRelu(float x, float alpha) { return x < 0f ? x * alpha : x; }
    public static float sigmoid(float x, float alpha) { return (float) (1.0 / (1.0 + Math.exp(-(double) x))); }
    public static float tanh(float x, float alpha) { return (float) Math.tanh(x); }
    public static float gelu(float x, float alpha) { return 0.5f * x * (1f + erf(x * INV_SQRT2)); }
    public static float exp(float x, float alpha) { return (float) Math.exp(x); }

    public static FloatVector apply(FloatVector v, int act, float alpha) {
        return switch (act) {
            case NONE -> v;
            case RELU -> relu(v, alpha);
            case LEAKY_RELU -> leakyRelu(v, alpha);
            case SIGMOID -> sigmoid(v, alpha);
            case TANH -> tanh(v, alpha);
            case GELU -> gelu(v, alpha);
            case EXP -> exp(v, alpha);
            default -> throw new IllegalArgumentException("activation code " + act);
        };
    }

    static FloatVector inv(FloatVector v) { return v.broadcast(1f).div(v); }

    static FloatVector erf(FloatVector z) {
        FloatVector a = z.abs();
        FloatVector t = inv(a.mul(P).add(1f));
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector y = poly.mul(a.mul(a).neg().lanewise(VectorOperators.EXP)).neg().add(1f);
        return y.blend(y.neg(), z.compare(VectorOperators.LT, 0f));
    }

    public static float apply(float x, int act, float alpha) {
        return switch (act) {
            case NONE -> x;
            case RELU -> relu(x, alpha);
            case LEAKY_RELU -> leakyRelu(x, alpha);
            case SIGMOID -> sigmoid(x, alpha);
            case TANH -> tanh(x, alpha);
            case GELU -> gelu(x, alpha);
            case EXP -> exp(x, alpha);
            default -> throw new IllegalArgumentException("activation code " + act);
        };
    }

    static float erf(float z) {
        float a = Math.abs(z), t = 1f / (1f + P * a);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float y = 1f - poly * (float) Math.exp(-a * a);
        return z < 0 ? -y : y;
    }
}
