package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation of x, or of the residual sum x + r when RES (ResidualLayerNorm), one task
 * per normalised row. The lowering has merged the axes: a task is an index (i0, i1, i2) of the
 * leading axes (extents T1, T2 after T0; strides XS*, RS*, YS*), its row is B1 × B2 runs of LEN
 * elements (run strides XB1, XB2, RB1, RB2, YB1, YB2; a run is contiguous when VEC), and the scale
 * and bias are dense over the row (run (b1, b2) starts at (b1·B2 + b2)·LEN).
 *
 * <p>One read of the row gives both moments: the sums of d = v − k and of d², k the row's first
 * element (v = x, or x + r rounded to f32 as the unfused add stores it). The mean is k + m1 and
 * the variance E[d²] − m1², computed in double. Shifting by an element of the row keeps the
 * cancellation small: m1² / var ≤ LEN − 1 whatever the row's mean (1e4 + N(0,1) rows lose
 * nothing, where E[v²] − E[v]² in f32 would lose every digit), and v − k is exact for v near k.
 * The output is (v − k − m1)·inv, so the mean is never rounded to f32 as one number.
 * AFFINE: 0 none, 1 scale, 2 scale and bias.
 */
public final class LayerNormKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_XS0, P_XS1, P_XS2, P_XB1, P_XB2;
    static int P_R_SLOT, P_R_OFF, P_RS0, P_RS1, P_RS2, P_RB1, P_RB2, P_RES, P_RS_IN;
    static int P_Y_SLOT, P_Y_OFF, P_YS0, P_YS1, P_YS2, P_YB1, P_YB2;
    static int P_G_SLOT, P_G_OFF, P_B_SLOT, P_B_OFF, P_AFFINE;
    static int P_T1, P_T2, P_B1, P_B2, P_LEN, P_VEC, P_XS_IN, P_YS_IN;
    static float P_EPS, P_INV_N;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], r = bufs[P_R_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int i2 = t % P_T2, i1 = t / P_T2 % P_T1, i0 = t / P_T2 / P_T1;
            int xo = P_X_OFF + i0 * P_XS0 + i1 * P_XS1 + i2 * P_XS2;
            int ro = P_R_OFF + i0 * P_RS0 + i1 * P_RS1 + i2 * P_RS2;
            int yo = P_Y_OFF + i0 * P_YS0 + i1 * P_YS1 + i2 * P_YS2;
            float k = P_RES == 1 ? x[xo] + r[ro] : x[xo];
            FloatVector s1 = FloatVector.zero(S), s2 = FloatVector.zero(S);
            float t1 = 0f, t2 = 0f;
            for (int b1 = 0; b1 < P_B1; b1++)
                for (int b2 = 0; b2 < P_B2; b2++) {
                    int o = xo + b1 * P_XB1 + b2 * P_XB2, q = ro + b1 * P_RB1 + b2 * P_RB2, j = 0;
                    if (P_VEC == 1)
                        for (; j <= P_LEN - S.length(); j += S.length()) {
                            FloatVector v = FloatVector.fromArray(S, x, o + j);
                            if (P_RES == 1) v = v.add(FloatVector.fromArray(S, r, q + j));
                            FloatVector d = v.sub(k);
                            s1 = s1.add(d);
                            s2 = d.fma(d, s2);
                        }
                    for (; j < P_LEN; j++) {
                        float v = x[o + j * (P_VEC == 1 ? 1 : P_XS_IN)];
                        if (P_RES == 1) v += r[q + j * (P_VEC == 1 ? 1 : P_RS_IN)];
                        float d = v - k;
                        t1 += d;
                        t2 = Math.fma(d, d, t2);
                    }
                }
            double m1 = ((double) s1.reduceLanes(VectorOperators.ADD) + t1) * P_INV_N;
            double var = Math.max(0.0, ((double) s2.reduceLanes(VectorOperators.ADD) + t2) * P_INV_N - m1 * m1);
            float inv = (float) (1 / Math.sqrt(var + P_EPS));
            float m = (float) m1;
            if (P_AFFINE == 0) write(x, xo, r, ro, y, yo, k, m, inv, y, 0, y, 0);
            else if (P_AFFINE == 1) write(x, xo, r, ro, y, yo, k, m, inv, bufs[P_G_SLOT], P_G_OFF, y, 0);
            else write(x, xo, r, ro, y, yo, k, m, inv, bufs[P_G_SLOT], P_G_OFF, bufs[P_B_SLOT], P_B_OFF);
        }
    }

    private static void write(float[] x, int xo, float[] r, int ro, float[] y, int yo, float k, float m, float inv,
                              float[] g, int go, float[] b, int bo) {
        for (int b1 = 0; b1 < P_B1; b1++)
            for (int b2 = 0; b2 < P_B2; b2++) {
                int xr = xo + b1 * P_XB1 + b2 * P_XB2, rr = ro + b1 * P_RB1 + b2 * P_RB2, yr = yo + b1 * P_YB1 + b2 * P_YB2;
                int c = (b1 * P_B2 + b2) * P_LEN, j = 0;
                if (P_VEC == 1)
                    for (; j <= P_LEN - S.length(); j += S.length()) {
                        FloatVector v = FloatVector.fromArray(S, x, xr + j);
                        if (P_RES == 1) v = v.add(FloatVector.fromArray(S, r, rr + j));
                        v = v.sub(k).sub(m).mul(inv);
                        if (P_AFFINE >= 1) v = v.mul(FloatVector.fromArray(S, g, go + c + j));
                        if (P_AFFINE == 2) v = v.add(FloatVector.fromArray(S, b, bo + c + j));
                        v.intoArray(y, yr + j);
                    }
                for (; j < P_LEN; j++) {
                    float v = x[xr + j * (P_VEC == 1 ? 1 : P_XS_IN)];
                    if (P_RES == 1) v += r[rr + j * (P_VEC == 1 ? 1 : P_RS_IN)];
                    v = (v - k - m) * inv;
                    if (P_AFFINE >= 1) v *= g[go + c + j];
                    if (P_AFFINE == 2) v += b[bo + c + j];
                    y[yr + j * (P_VEC == 1 ? 1 : P_YS_IN)] = v;
                }
            }
    }
}
