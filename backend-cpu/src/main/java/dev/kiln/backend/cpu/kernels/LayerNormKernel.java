package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation, one task per normalised row. The lowering has merged the axes: a task
 * is an index (i0, i1, i2) of the leading axes (extents T1, T2 after T0; strides XS*, YS*), its
 * row is B1 × B2 runs of LEN elements (run strides XB1, XB2, YB1, YB2; a run is contiguous when
 * VEC), and the scale and bias are dense over the row (run (b1, b2) starts at (b1·B2 + b2)·LEN).
 *
 * <p>The statistics take three reads of the row: the sum gives a first mean m0, the sum of
 * x − m0 its correction delta (m0 is off by the f32 rounding of a sum of N values and by its own
 * ulp, which matters when the mean is large against the spread: 1e4 + N(0,1) rows, where one ulp
 * of m0 is 1e-3), and the sum of squares of x − m0 − delta the variance, without the
 * cancellation of E[x²] − E[x]². The output is (x − m0 − delta)·inv: x − m0 is exact for x near
 * m0, so the mean is never rounded to f32 as one number.
 * AFFINE: 0 none, 1 scale, 2 scale and bias.
 */
public final class LayerNormKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_XS0, P_XS1, P_XS2, P_XB1, P_XB2;
    static int P_Y_SLOT, P_Y_OFF, P_YS0, P_YS1, P_YS2, P_YB1, P_YB2;
    static int P_G_SLOT, P_G_OFF, P_B_SLOT, P_B_OFF, P_AFFINE;
    static int P_T1, P_T2, P_B1, P_B2, P_LEN, P_VEC, P_XS_IN, P_YS_IN;
    static float P_EPS, P_INV_N;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int i2 = t % P_T2, i1 = t / P_T2 % P_T1, i0 = t / P_T2 / P_T1;
            int xo = P_X_OFF + i0 * P_XS0 + i1 * P_XS1 + i2 * P_XS2;
            int yo = P_Y_OFF + i0 * P_YS0 + i1 * P_YS1 + i2 * P_YS2;
            // the mean stays m0 + delta: x − m0 is exact for x near m0, and delta (small) is then subtracted at full precision
            float m0 = sum(x, xo, 0f, 0f, false) * P_INV_N;
            float delta = sum(x, xo, m0, 0f, false) * P_INV_N;
            float var = Math.max(0f, sum(x, xo, m0, delta, true) * P_INV_N);
            float inv = (float) (1 / Math.sqrt(var + P_EPS));
            if (P_AFFINE == 0) write(x, xo, y, yo, m0, delta, inv, y, 0, y, 0);
            else if (P_AFFINE == 1) write(x, xo, y, yo, m0, delta, inv, bufs[P_G_SLOT], P_G_OFF, y, 0);
            else write(x, xo, y, yo, m0, delta, inv, bufs[P_G_SLOT], P_G_OFF, bufs[P_B_SLOT], P_B_OFF);
        }
    }

    /** Σ (x − c1 − c2) over the row, or Σ (x − c1 − c2)² when squares. */
    private static float sum(float[] x, int xo, float c1, float c2, boolean squares) {
        FloatVector acc = FloatVector.zero(S);
        float tail = 0f;
        for (int b1 = 0; b1 < P_B1; b1++)
            for (int b2 = 0; b2 < P_B2; b2++) {
                int o = xo + b1 * P_XB1 + b2 * P_XB2, j = 0;
                if (P_VEC == 1)
                    for (; j <= P_LEN - S.length(); j += S.length()) {
                        FloatVector d = FloatVector.fromArray(S, x, o + j).sub(c1).sub(c2);
                        acc = squares ? d.fma(d, acc) : acc.add(d);
                    }
                for (; j < P_LEN; j++) {
                    float d = x[o + j * (P_VEC == 1 ? 1 : P_XS_IN)] - c1 - c2;
                    tail = squares ? Math.fma(d, d, tail) : tail + d;
                }
            }
        return acc.reduceLanes(VectorOperators.ADD) + tail;
    }

    private static void write(float[] x, int xo, float[] y, int yo, float m0, float delta, float inv, float[] g, int go, float[] b, int bo) {
        for (int b1 = 0; b1 < P_B1; b1++)
            for (int b2 = 0; b2 < P_B2; b2++) {
                int xr = xo + b1 * P_XB1 + b2 * P_XB2, yr = yo + b1 * P_YB1 + b2 * P_YB2, k = (b1 * P_B2 + b2) * P_LEN, j = 0;
                if (P_VEC == 1)
                    for (; j <= P_LEN - S.length(); j += S.length()) {
                        FloatVector v = FloatVector.fromArray(S, x, xr + j).sub(m0).sub(delta).mul(inv);
                        if (P_AFFINE >= 1) v = v.mul(FloatVector.fromArray(S, g, go + k + j));
                        if (P_AFFINE == 2) v = v.add(FloatVector.fromArray(S, b, bo + k + j));
                        v.intoArray(y, yr + j);
                    }
                for (; j < P_LEN; j++) {
                    float v = (x[xr + j * (P_VEC == 1 ? 1 : P_XS_IN)] - m0 - delta) * inv;
                    if (P_AFFINE >= 1) v *= g[go + k + j];
                    if (P_AFFINE == 2) v += b[bo + k + j];
                    y[yr + j * (P_VEC == 1 ? 1 : P_YS_IN)] = v;
                }
            }
    }
}
