package dev.kiln.ir.op;

/** Double-precision scalar functions the JDK lacks, for the reference semantics. */
public final class ScalarMath {
    private ScalarMath() {}

    /** erf(x) to ~1e-14 absolute: Taylor series near 0, a continued fraction for erfc beyond. */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        if (ax > 6) return Math.signum(x);
        // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated backwards
        double f = ax;
        for (int k = 80; k >= 1; k--) f = ax + (k / 2.0) / f;
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }

    public static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    /** Exact GELU, as PyTorch's default: x · Φ(x). */
    public static double gelu(double x) { return 0.5 * x * (1 + erf(x / Math.sqrt(2))); }
}
