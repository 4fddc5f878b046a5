package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Y = act(X · SCALE) element-wise; one task per row of the 4-d view. */
public final class UnaryKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_D1, P_D2, P_D3, P_ACT;
    static float P_SCALE;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int row = lo; row < hi; row++) {
            int i2 = row % P_D2, i1 = row / P_D2 % P_D1, i0 = row / P_D2 / P_D1;
            int xo = P_X_OFF + i0 * P_X_S0 + i1 * P_X_S1 + i2 * P_X_S2;
            int yo = P_Y_OFF + i0 * P_Y_S0 + i1 * P_Y_S1 + i2 * P_Y_S2;
            int j = 0;
            for (; j <= P_D3 - S.length(); j += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, xo + j);
                if (P_SCALE != 1f) v = v.mul(P_SCALE);
                VecMath.apply(v, P_ACT).intoArray(y, yo + j);
            }
            for (; j < P_D3; j++) y[yo + j] = VecMath.apply(x[xo + j] * P_SCALE, P_ACT);
        }
    }
}
