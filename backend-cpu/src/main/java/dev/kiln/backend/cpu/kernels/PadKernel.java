package dev.kiln.backend.cpu.kernels;

/**
 * Pad over 6 axes (lower ranks padded with leading axes of extent 1 and no pad): one task per
 * result row. Each leading index maps to its operand index once per row (mirrored, clamped, or
 * outside for the constant, which fills the whole row); along the row the interior is one
 * System.arraycopy and only the begin and end pads are element by element.
 */
public final class PadKernel implements Kernel {
    public static final int CONSTANT = 0, REFLECT = 1, EDGE = 2;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_X_S3, P_X_S4;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2, P_Y_S3, P_Y_S4;
    /** Result extents (D0 is implied by the task range). */
    static int P_D1, P_D2, P_D3, P_D4, P_D5;
    /** Operand extents and begin pads. */
    static int P_N0, P_N1, P_N2, P_N3, P_N4, P_N5, P_B0, P_B1, P_B2, P_B3, P_B4, P_B5;
    static int P_MODE;
    static float P_VALUE;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int row = lo; row < hi; row++) {
            int q = row;
            int i4 = q % P_D4;
            q /= P_D4;
            int i3 = q % P_D3;
            q /= P_D3;
            int i2 = q % P_D2;
            q /= P_D2;
            int i1 = q % P_D1, i0 = q / P_D1;
            int yo = P_Y_OFF + i0 * P_Y_S0 + i1 * P_Y_S1 + i2 * P_Y_S2 + i3 * P_Y_S3 + i4 * P_Y_S4;
            int s0 = source(i0 - P_B0, P_N0), s1 = source(i1 - P_B1, P_N1), s2 = source(i2 - P_B2, P_N2);
            int s3 = source(i3 - P_B3, P_N3), s4 = source(i4 - P_B4, P_N4);
            if ((s0 | s1 | s2 | s3 | s4) < 0) {
                for (int j = 0; j < P_D5; j++) y[yo + j] = P_VALUE;
                continue;
            }
            int xo = P_X_OFF + s0 * P_X_S0 + s1 * P_X_S1 + s2 * P_X_S2 + s3 * P_X_S3 + s4 * P_X_S4;
            for (int j = 0; j < P_B5; j++) y[yo + j] = at(x, xo, j - P_B5);
            System.arraycopy(x, xo, y, yo + P_B5, P_N5);
            for (int j = P_B5 + P_N5; j < P_D5; j++) y[yo + j] = at(x, xo, j - P_B5);
        }
    }

    /** The row's element i (outside [0, N5) in a pad), or the value. */
    private static float at(float[] x, int xo, int i) {
        int s = source(i, P_N5);
        return s < 0 ? P_VALUE : x[xo + s];
    }

    /** Operand index for index i counted from the operand's start along an axis of n, −1 for the constant (as Pad.source). */
    private static int source(int i, int n) {
        if (i >= 0 && i < n) return i;
        if (P_MODE == CONSTANT) return -1;
        if (P_MODE == EDGE) return i < 0 ? 0 : n - 1;
        return i < 0 ? -i : 2 * (n - 1) - i;
    }
}
