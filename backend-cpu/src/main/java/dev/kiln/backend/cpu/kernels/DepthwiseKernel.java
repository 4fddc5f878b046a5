package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution (one filter per channel), vectorised along the output row with four
 * vectors in flight so the taps form independent FMA chains. One task per (image, channel,
 * output row); the input carries a halo covering the padding. Epilogue as {@link ConvKernel}.
 */
public final class DepthwiseKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_W_SLOT, P_W_OFF, P_B_SLOT, P_B_OFF, P_C, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL;
    static int P_EXTRA, P_EPI;
    /** The row's last group of up to four vectors (REM columns): TAIL_FULL whole vectors, then TAIL_PART lanes. */
    static final int REM = P_OW % (4 * L), TAIL_FULL = REM / L, TAIL_PART = REM % L;
    static final int[] IDX = indexMap(L), IDX_TAIL = indexMap(TAIL_PART);

    /** Gather offsets for strided rows; lanes past the row end point at 0, since masked gathers still check every lane. */
    private static int[] indexMap(int active) {
        int[] m = new int[L];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], w = bufs[P_W_SLOT], bias = bufs[P_B_SLOT];
        float[] e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, c = t / P_OH % P_C, n = t / P_OH / P_C;
            int xb = P_X_OFF + n * P_X_S0 + c * P_X_S1 + (oy * P_SH - P_PT) * P_X_S2 - P_PL;
            int yb = P_Y_OFF + n * P_Y_S0 + c * P_Y_S1 + oy * P_Y_S2, eb = P_E_OFF + n * P_E_S0 + c * P_E_S1 + oy * P_E_S2;
            int wb = P_W_OFF + c * P_KH * P_KW;
            float b = bias[P_B_OFF + c];
            int ox0 = 0;
            for (; ox0 + 4 * L <= P_OW; ox0 += 4 * L) {
                FloatVector a0 = FloatVector.broadcast(S, b), a1 = a0, a2 = a0, a3 = a0;
                for (int ky = 0; ky < P_KH; ky++)
                    for (int kx = 0; kx < P_KW; kx++) {
                        int at = xb + ky * P_DH * P_X_S2 + kx * P_DW + ox0 * P_SW;
                        FloatVector wv = FloatVector.broadcast(S, w[wb + ky * P_KW + kx]);
                        a0 = load(x, at).fma(wv, a0);
                        a1 = load(x, at + L * P_SW).fma(wv, a1);
                        a2 = load(x, at + 2 * L * P_SW).fma(wv, a2);
                        a3 = load(x, at + 3 * L * P_SW).fma(wv, a3);
                    }
                finish(a0, e, eb + ox0, y, yb + ox0);
                finish(a1, e, eb + ox0 + L, y, yb + ox0 + L);
                finish(a2, e, eb + ox0 + 2 * L, y, yb + ox0 + 2 * L);
                finish(a3, e, eb + ox0 + 3 * L, y, yb + ox0 + 3 * L);
            }
            if (REM == 0) continue;
            // the last REM columns, still four chains: vectors past REM are never loaded nor stored (the conditions are constants)
            VectorMask<Float> m = S.indexInRange(0, TAIL_PART);
            FloatVector a0 = FloatVector.broadcast(S, b), a1 = a0, a2 = a0, a3 = a0;
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = xb + ky * P_DH * P_X_S2 + kx * P_DW + ox0 * P_SW;
                    FloatVector wv = FloatVector.broadcast(S, w[wb + ky * P_KW + kx]);
                    a0 = (TAIL_FULL > 0 ? load(x, at) : loadTail(x, at, m)).fma(wv, a0);
                    if (REM > L) a1 = (TAIL_FULL > 1 ? load(x, at + L * P_SW) : loadTail(x, at + L * P_SW, m)).fma(wv, a1);
                    if (REM > 2 * L) a2 = (TAIL_FULL > 2 ? load(x, at + 2 * L * P_SW) : loadTail(x, at + 2 * L * P_SW, m)).fma(wv, a2);
                    if (REM > 3 * L) a3 = (TAIL_FULL > 3 ? load(x, at + 3 * L * P_SW) : loadTail(x, at + 3 * L * P_SW, m)).fma(wv, a3);
                }
            if (TAIL_FULL > 0) finish(a0, e, eb + ox0, y, yb + ox0); else finishTail(a0, e, eb + ox0, y, yb + ox0, m);
            if (REM > L) { if (TAIL_FULL > 1) finish(a1, e, eb + ox0 + L, y, yb + ox0 + L); else finishTail(a1, e, eb + ox0 + L, y, yb + ox0 + L, m); }
            if (REM > 2 * L) { if (TAIL_FULL > 2) finish(a2, e, eb + ox0 + 2 * L, y, yb + ox0 + 2 * L); else finishTail(a2, e, eb + ox0 + 2 * L, y, yb + ox0 + 2 * L, m); }
            if (REM > 3 * L) { if (TAIL_FULL > 3) finish(a3, e, eb + ox0 + 3 * L, y, yb + ox0 + 3 * L); else finishTail(a3, e, eb + ox0 + 3 * L, y, yb + ox0 + 3 * L, m); }
        }
    }

    private static FloatVector load(float[] x, int at) {
        if (P_SW == 1) return FloatVector.fromArray(S, x, at);
        return P_SW == 2 && Strided.fits(x, at) ? Strided.evenLanes(x, at) : FloatVector.fromArray(S, x, at, IDX, 0);
    }

    private static FloatVector loadTail(float[] x, int at, VectorMask<Float> m) {
        if (P_SW == 1) return FloatVector.fromArray(S, x, at, m);
        // lanes past the row's end are never stored: reading them unmasked is fine where it stays in x
        return P_SW == 2 && Strided.fits(x, at) ? Strided.evenLanes(x, at) : FloatVector.fromArray(S, x, at, IDX_TAIL, 0, m);
    }

    private static void finishTail(FloatVector a, float[] e, int eo, float[] y, int yo, VectorMask<Float> m) {
        VecMath.epilogue(a, P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo, m), P_EPI).intoArray(y, yo, m);
    }

    private static void finish(FloatVector a, float[] e, int eo, float[] y, int yo) {
        VecMath.epilogue(a, P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
    }

}
