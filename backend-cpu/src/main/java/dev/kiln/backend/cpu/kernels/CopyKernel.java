package dev.kiln.backend.cpu.kernels;

/**
 * Moves a 4-d index space from one strided view to another: reshape, transpose, slice and each
 * operand of a concat are all this copy with different strides. One task per row.
 */
public final class CopyKernel implements Kernel {
    static int P_R_SLOT, P_R_OFF, P_R_S0, P_R_S1, P_R_S2, P_R_S3;
    static int P_W_SLOT, P_W_OFF, P_W_S0, P_W_S1, P_W_S2, P_W_S3;
    static int P_D1, P_D2, P_D3;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] r = bufs[P_R_SLOT], w = bufs[P_W_SLOT];
        for (int row = lo; row < hi; row++) {
            int i2 = row % P_D2, i1 = row / P_D2 % P_D1, i0 = row / P_D2 / P_D1;
            int ro = P_R_OFF + i0 * P_R_S0 + i1 * P_R_S1 + i2 * P_R_S2;
            int wo = P_W_OFF + i0 * P_W_S0 + i1 * P_W_S1 + i2 * P_W_S2;
            if (P_R_S3 == 1 && P_W_S3 == 1) System.arraycopy(r, ro, w, wo, P_D3);
            else for (int j = 0; j < P_D3; j++) w[wo + j * P_W_S3] = r[ro + j * P_R_S3];
        }
    }
}
