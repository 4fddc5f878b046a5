package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Activations on vectors and on scalars (for loop tails), with the same formulas so a lane
 * never depends on where it fell. Codes follow ir's Activation ordinals, plus EXP.
 *
 * <p>Accuracy against the double reference: ReLU/LeakyReLU exact; EXP and TANH use the Vector
 * API's intrinsics (SVML here, ≤ 1 ulp); sigmoid = 1/(1+exp(−x)) (≤ 2 ulp); GELU uses erf by
 * Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7 in erf, so ≤ 1e-7·|x| in GELU).
 */
public final class VecMath {
    public static final int NONE = 0, RELU = 1, LEAKY_RELU = 2, SIGMOID = 3, TANH = 4, GELU = 5, EXP = 6;

    private static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f, INV_SQRT2 = 0.70710678118654752f;

    private VecMath() {}

    public static FloatVector apply(FloatVector v, int act, float alpha) {
        return switch (act) {
            case NONE -> v;
            case RELU -> v.blend(0f, v.compare(VectorOperators.LT, 0f));
            case LEAKY_RELU -> v.blend(v.mul(alpha), v.compare(VectorOperators.LT, 0f));
            case SIGMOID -> inv(v.neg().lanewise(VectorOperators.EXP).add(1f)).blend(0f, v.compare(VectorOperators.LT, -100f));
            case TANH -> v.lanewise(VectorOperators.TANH);
            case GELU -> v.mul(0.5f).mul(erf(v.mul(INV_SQRT2)).add(1f));
            case EXP -> v.lanewise(VectorOperators.EXP);
            default -> throw new IllegalArgumentException("activation code " + act);
        };
    }

    /** A fused epilogue after the bias: COMBINE 1 adds extra before the activation, 2 multiplies after it. */
    public static FloatVector epilogue(FloatVector v, FloatVector extra, int combine, int act, float alpha) {
        if (combine == 1) v = v.add(extra);
        v = apply(v, act, alpha);
        return combine == 2 ? v.mul(extra) : v;
    }

    public static float epilogue(float v, float extra, int combine, int act, float alpha) {
        if (combine == 1) v += extra;
        v = apply(v, act, alpha);
        return combine == 2 ? v * extra : v;
    }

    private static FloatVector inv(FloatVector v) { return v.broadcast(1f).div(v); }

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
            case RELU -> x < 0f ? 0f : x;
            case LEAKY_RELU -> x < 0f ? x * alpha : x;
            case SIGMOID -> x < -100f ? 0f : 1f / (1f + (float) Math.exp(-x));
            case TANH -> (float) Math.tanh(x);
            case GELU -> 0.5f * x * (1f + erf(x * INV_SQRT2));
            case EXP -> (float) Math.exp(x);
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
