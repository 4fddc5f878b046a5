package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution as an implicit GEMM, vectorised along the output row: a register tile of
 * 8 output channels × 2 vectors of output pixels accumulates over (input channel, ky, kx).
 * The input must carry a zero halo at least as wide as the padding, so no load is bounds
 * checked; strided convolutions gather with a constant index map. A task is
 * (image, group, block of 8 output channels, output row). Epilogue as {@link GemmKernel}.
 */
public final class ConvKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L, MR = 8;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_W_SLOT, P_W_OFF, P_B_SLOT, P_B_OFF, P_G, P_CG, P_OG, P_OB, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL;
    static int P_COMBINE, P_ACT;
    static float P_ALPHA;
    static final int KTOT = P_CG * P_KH * P_KW;
    static final int[] IDX = indexMap(NR), IDX_TAIL = indexMap(P_OW % NR);

    /** Lane i reads column i·SW; lanes from {@code active} on (past the row's end) read column 0, since a masked gather still range-checks them. */
    private static int[] indexMap(int active) {
        int[] m = new int[NR];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], w = bufs[P_W_SLOT], bias = bufs[P_B_SLOT];
        float[] e = P_COMBINE == 0 ? null : bufs[P_E_SLOT];
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, ob = t / P_OH % P_OB, g = t / P_OH / P_OB % P_G, n = t / P_OH / P_OB / P_G;
            int oc0 = g * P_OG + ob * MR, rows = Math.min(MR, P_OG - ob * MR);
            int xrow = P_X_OFF + n * P_X_S0 + g * P_CG * P_X_S1 + (oy * P_SH - P_PT) * P_X_S2 - P_PL;
            for (int ox0 = 0; ox0 < P_OW; ox0 += NR) {
                if (rows == MR) tile8(x, w, y, bias, e, xrow + ox0 * P_SW, n, oc0, oy, ox0);
                else for (int r = 0; r < rows; r++) tile1(x, w, y, bias, e, xrow + ox0 * P_SW, n, oc0 + r, oy, ox0);
            }
        }
    }

    private static FloatVector load(float[] x, int at, int half, boolean full, VectorMask<Float> mask) {
        if (P_SW == 1) return full ? FloatVector.fromArray(S, x, at + half * L) : FloatVector.fromArray(S, x, at + half * L, mask);
        return full ? FloatVector.fromArray(S, x, at, IDX, half * L) : FloatVector.fromArray(S, x, at, IDX_TAIL, half * L, mask);
    }

    private static void tile8(float[] x, float[] w, float[] y, float[] bias, float[] e, int xbase, int n, int oc0, int oy, int ox0) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        boolean full = ox0 + NR <= P_OW;
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = S.indexInRange(ox0 + L, P_OW);
        int wb = P_W_OFF + oc0 * KTOT;
        for (int c = 0; c < P_CG; c++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = xbase + c * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW;
                    FloatVector b0 = load(x, at, 0, full, k0), b1 = load(x, at, 1, full, k1);
                    int wo = wb + (c * P_KH + ky) * P_KW + kx;
                    FloatVector a;
                    a = FloatVector.broadcast(S, w[wo]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
                    a = FloatVector.broadcast(S, w[wo + KTOT]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
                    a = FloatVector.broadcast(S, w[wo + 2 * KTOT]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
                    a = FloatVector.broadcast(S, w[wo + 3 * KTOT]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
                    a = FloatVector.broadcast(S, w[wo + 4 * KTOT]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
                    a = FloatVector.broadcast(S, w[wo + 5 * KTOT]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
                    a = FloatVector.broadcast(S, w[wo + 6 * KTOT]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
                    a = FloatVector.broadcast(S, w[wo + 7 * KTOT]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
                }
        store(y, bias, e, n, oc0, oy, ox0, c00, c01, full, k0, k1);
        store(y, bias, e, n, oc0 + 1, oy, ox0, c10, c11, full, k0, k1);
        store(y, bias, e, n, oc0 + 2, oy, ox0, c20, c21, full, k0, k1);
        store(y, bias, e, n, oc0 + 3, oy, ox0, c30, c31, full, k0, k1);
        store(y, bias, e, n, oc0 + 4, oy, ox0, c40, c41, full, k0, k1);
        store(y, bias, e, n, oc0 + 5, oy, ox0, c50, c51, full, k0, k1);
        store(y, bias, e, n, oc0 + 6, oy, ox0, c60, c61, full, k0, k1);
        store(y, bias, e, n, oc0 + 7, oy, ox0, c70, c71, full, k0, k1);
    }

    private static void tile1(float[] x, float[] w, float[] y, float[] bias, float[] e, int xbase, int n, int oc, int oy, int ox0) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        boolean full = ox0 + NR <= P_OW;
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = S.indexInRange(ox0 + L, P_OW);
        int wb = P_W_OFF + oc * KTOT;
        for (int c = 0; c < P_CG; c++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = xbase + c * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW;
                    FloatVector a = FloatVector.broadcast(S, w[wb + (c * P_KH + ky) * P_KW + kx]);
                    c0 = a.fma(load(x, at, 0, full, k0), c0);
                    c1 = a.fma(load(x, at, 1, full, k1), c1);
                }
        store(y, bias, e, n, oc, oy, ox0, c0, c1, full, k0, k1);
    }

    private static void store(float[] y, float[] bias, float[] e, int n, int oc, int oy, int ox0, FloatVector v0, FloatVector v1,
                              boolean full, VectorMask<Float> k0, VectorMask<Float> k1) {
        float b = bias[P_B_OFF + oc];
        v0 = v0.add(b);
        v1 = v1.add(b);
        FloatVector e0 = null, e1 = null;
        if (P_COMBINE != 0) {
            int eo = P_E_OFF + n * P_E_S0 + oc * P_E_S1 + oy * P_E_S2 + ox0;
            e0 = full ? FloatVector.fromArray(S, e, eo) : FloatVector.fromArray(S, e, eo, k0);
            e1 = full ? FloatVector.fromArray(S, e, eo + L) : FloatVector.fromArray(S, e, eo + L, k1);
        }
        v0 = VecMath.epilogue(v0, e0, P_COMBINE, P_ACT, P_ALPHA);
        v1 = VecMath.epilogue(v1, e1, P_COMBINE, P_ACT, P_ALPHA);
        int yo = P_Y_OFF + n * P_Y_S0 + oc * P_Y_S1 + oy * P_Y_S2 + ox0;
        if (full) {
            v0.intoArray(y, yo);
            v1.intoArray(y, yo + L);
        } else {
            v0.intoArray(y, yo, k0);
            v1.intoArray(y, yo + L, k1);
        }
    }
}
