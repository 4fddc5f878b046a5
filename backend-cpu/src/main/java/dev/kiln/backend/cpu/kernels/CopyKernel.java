package dev.kiln.backend.cpu.kernels;

/**
 * Moves an index space of up to 6 axes from one strided view to another: reshape, transpose,
 * slice, each operand of a concat and each broadcast operand materialised for an element-wise op
 * are all this copy with different strides. Lower ranks come padded with leading axes of extent 1,
 * whose index math the constants fold away. One task per row (the last axis); a row with unit
 * stride on both sides is one System.arraycopy.
 */
public final class CopyKernel implements Kernel {
    static int P_R_SLOT, P_R_OFF, P_R_S0, P_R_S1, P_R_S2, P_R_S3, P_R_S4, P_R_S5;
    static int P_W_SLOT, P_W_OFF, P_W_S0, P_W_S1, P_W_S2, P_W_S3, P_W_S4, P_W_S5;
    static int P_D1, P_D2, P_D3, P_D4, P_D5;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] r = bufs[P_R_SLOT], w = bufs[P_W_SLOT];
        for (int row = lo; row < hi; row++) {
            int q = row;
            int i4 = q % P_D4;
            q /= P_D4;
            int i3 = q % P_D3;
            q /= P_D3;
            int i2 = q % P_D2;
            q /= P_D2;
            int i1 = q % P_D1, i0 = q / P_D1;
            int ro = P_R_OFF + i0 * P_R_S0 + i1 * P_R_S1 + i2 * P_R_S2 + i3 * P_R_S3 + i4 * P_R_S4;
            int wo = P_W_OFF + i0 * P_W_S0 + i1 * P_W_S1 + i2 * P_W_S2 + i3 * P_W_S3 + i4 * P_W_S4;
            if (P_R_S5 == 1 && P_W_S5 == 1) System.arraycopy(r, ro, w, wo, P_D5);
            else for (int j = 0; j < P_D5; j++) w[wo + j * P_W_S5] = r[ro + j * P_R_S5];
        }
    }
}
