package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Y = C ≠ 0 ? A : B with NumPy broadcasting: C, A and B are 4-d views whose broadcast axes have
 * stride 0. NaN in C is non-zero, so it picks A (NE is true with NaN), as the reference. One task per output row.
 */
public final class WhereKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_C_SLOT, P_C_OFF, P_C_S0, P_C_S1, P_C_S2, P_C_S3;
    static int P_A_SLOT, P_A_OFF, P_A_S0, P_A_S1, P_A_S2, P_A_S3;
    static int P_B_SLOT, P_B_OFF, P_B_S0, P_B_S1, P_B_S2, P_B_S3;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_D1, P_D2, P_D3;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] c = bufs[P_C_SLOT], a = bufs[P_A_SLOT], b = bufs[P_B_SLOT], y = bufs[P_Y_SLOT];
        for (int row = lo; row < hi; row++) {
            int i2 = row % P_D2, i1 = row / P_D2 % P_D1, i0 = row / P_D2 / P_D1;
            int co = P_C_OFF + i0 * P_C_S0 + i1 * P_C_S1 + i2 * P_C_S2;
            int ao = P_A_OFF + i0 * P_A_S0 + i1 * P_A_S1 + i2 * P_A_S2;
            int bo = P_B_OFF + i0 * P_B_S0 + i1 * P_B_S1 + i2 * P_B_S2;
            int yo = P_Y_OFF + i0 * P_Y_S0 + i1 * P_Y_S1 + i2 * P_Y_S2;
            int j = 0;
            if (P_C_S3 <= 1 && P_A_S3 <= 1 && P_B_S3 <= 1) {
                for (; j <= P_D3 - S.length(); j += S.length()) {
                    FloatVector vc = P_C_S3 == 1 ? FloatVector.fromArray(S, c, co + j) : FloatVector.broadcast(S, c[co]);
                    FloatVector va = P_A_S3 == 1 ? FloatVector.fromArray(S, a, ao + j) : FloatVector.broadcast(S, a[ao]);
                    FloatVector vb = P_B_S3 == 1 ? FloatVector.fromArray(S, b, bo + j) : FloatVector.broadcast(S, b[bo]);
                    vb.blend(va, vc.compare(VectorOperators.NE, 0f)).intoArray(y, yo + j);
                }
            }
            for (; j < P_D3; j++) y[yo + j] = c[co + j * P_C_S3] != 0 ? a[ao + j * P_A_S3] : b[bo + j * P_B_S3];
        }
    }
}
