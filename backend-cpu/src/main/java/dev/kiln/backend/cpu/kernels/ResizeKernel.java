package dev.kiln.backend.cpu.kernels;

/**
 * Resize of [N,C,H,W] (a rank-3 resize comes as H = 1) by tables the lowering computes once from
 * the op's own taps (Resize.taps): per result row its source rows and weight, per result column
 * its source columns and weight (indices stored as floats, exact below 2^24). One task per
 * result row; NEAREST copies one element per column, LINEAR blends four as Resize.lerp does
 * (a zero weight takes the first tap alone).
 */
public final class ResizeKernel implements Kernel {
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    /** Result C, H and W. */
    static int P_D1, P_D2, P_D3;
    static int P_LINEAR;
    /** Table slots: source rows (0 and 1) and row weights by result row; source columns and column weights by result column. */
    static int P_RY0, P_RY1, P_WY, P_CX0, P_CX1, P_WX;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        float[] ry0 = bufs[P_RY0], cx0 = bufs[P_CX0];
        for (int row = lo; row < hi; row++) {
            int oy = row % P_D2, c = row / P_D2 % P_D1, n = row / P_D2 / P_D1;
            int base = P_X_OFF + n * P_X_S0 + c * P_X_S1;
            int r0 = base + (int) ry0[oy] * P_X_S2;
            int yo = P_Y_OFF + n * P_Y_S0 + c * P_Y_S1 + oy * P_Y_S2;
            if (P_LINEAR == 0) {
                for (int ox = 0; ox < P_D3; ox++) y[yo + ox] = x[r0 + (int) cx0[ox]];
            } else {
                linearRow(x, y, bufs, r0, base + (int) bufs[P_RY1][oy] * P_X_S2, bufs[P_WY][oy], yo);
            }
        }
    }

    private static void linearRow(float[] x, float[] y, float[][] bufs, int r0, int r1, float wy, int yo) {
        float[] cx0 = bufs[P_CX0], cx1 = bufs[P_CX1], wx = bufs[P_WX];
        for (int ox = 0; ox < P_D3; ox++) {
            int c0 = (int) cx0[ox], c1 = (int) cx1[ox];
            float w = wx[ox];
            float top = w == 0 ? x[r0 + c0] : (1 - w) * x[r0 + c0] + w * x[r0 + c1];
            if (wy == 0) { y[yo + ox] = top; continue; }
            float bottom = w == 0 ? x[r1 + c0] : (1 - w) * x[r1 + c0] + w * x[r1 + c1];
            y[yo + ox] = (1 - wy) * top + wy * bottom;
        }
    }
}
