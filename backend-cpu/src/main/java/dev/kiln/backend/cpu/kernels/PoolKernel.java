package dev.kiln.backend.cpu.kernels;

/**
 * Max or average pooling over [N,C,H,W]; one task per output row (n, c, oy). Window bounds
 * are checked (padding counts as −∞ for max, and per COUNT_PAD for average).
 */
public final class PoolKernel implements Kernel {
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_C, P_H, P_W, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL, P_PB, P_PR, P_MAX, P_COUNT_PAD;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, c = t / P_OH % P_C, n = t / P_OH / P_C;
            int xo = P_X_OFF + n * P_X_S0 + c * P_X_S1, yo = P_Y_OFF + n * P_Y_S0 + c * P_Y_S1 + oy * P_Y_S2;
            int y0 = oy * P_SH - P_PT;
            for (int ox = 0; ox < P_OW; ox++) {
                int x0 = ox * P_SW - P_PL;
                float acc = P_MAX == 1 ? Float.NEGATIVE_INFINITY : 0f;
                boolean nan = false;
                int count = 0;
                for (int ky = 0; ky < P_KH; ky++) {
                    int iy = y0 + ky;
                    for (int kx = 0; kx < P_KW; kx++) {
                        int ix = x0 + kx;
                        boolean inside = iy >= 0 && iy < P_H && ix >= 0 && ix < P_W;
                        if (inside) {
                            float v = x[xo + iy * P_X_S2 + ix];
                            if (P_MAX == 1) {
                                if (v != v) nan = true;
                                else if (v > acc) acc = v;
                            } else acc += v;
                            count++;
                        } else if (P_MAX == 0 && P_COUNT_PAD == 1 && iy < P_H + P_PB && ix < P_W + P_PR) count++;
                    }
                }
                y[yo + ox] = P_MAX == 1 ? (nan ? Float.NaN : acc) : acc / count;
            }
        }
    }
}
