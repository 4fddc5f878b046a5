package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution as an implicit GEMM, vectorised along the output row: a register tile of
 * 8 output channels × 2 vectors of output pixels accumulates over (input channel, ky, kx).
 * The input must carry a zero halo at least as wide as the padding, so no load is bounds
 * checked; strided convolutions gather with a constant index map. A task is
 * (image, group, block of 8 output channels, output row). Epilogue as {@link GemmKernel}.
 *
 * <p>ROWS2=1, for images no wider than one vector: the tile's second vector holds the next
 * output row instead of columns past the row's end, and a task is a pair of rows. At width 12
 * that uses 24 of 32 lanes instead of 12.
 */
public final class ConvKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L, MR = 8;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_W_SLOT, P_W_OFF, P_B_SLOT, P_B_OFF, P_G, P_CG, P_OG, P_OB, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL;
    static int P_EXTRA, P_EPI, P_ROWS2, P_OHT;
    static final int KTOT = P_CG * P_KH * P_KW;
    /** Where the tile's second vector starts: L columns on, or (ROWS2) one output row down. */
    static final int X_NEXT = P_ROWS2 == 1 ? P_SH * P_X_S2 : L, Y_NEXT = P_ROWS2 == 1 ? P_Y_S2 : L, E_NEXT = P_ROWS2 == 1 ? P_E_S2 : L;
    static final int[] IDX = indexMap(NR), IDX_TAIL = indexMap(P_OW % NR);

    /** Lane i reads column i·SW; lanes from {@code active} on (past the row's end) read column 0, since a masked gather still range-checks them. */
    private static int[] indexMap(int active) {
        int[] m = new int[NR];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], w = bufs[P_W_SLOT], bias = bufs[P_B_SLOT];
        float[] e = P_EXTRA == 0 ? null : bufs[P_E_SLOT], tile = ThreadScratch.of(SCRATCH, MR * NR);
        for (int t = lo; t < hi; t++) {
            int oyt = t % P_OHT, ob = t / P_OHT % P_OB, g = t / P_OHT / P_OB % P_G, n = t / P_OHT / P_OB / P_G;
            int oy = P_ROWS2 == 1 ? 2 * oyt : oyt;
            boolean second = P_ROWS2 == 1 && oy + 1 < P_OH;
            int oc0 = g * P_OG + ob * MR, rows = Math.min(MR, P_OG - ob * MR);
            int xrow = P_X_OFF + n * P_X_S0 + g * P_CG * P_X_S1 + (oy * P_SH - P_PT) * P_X_S2 - P_PL;
            for (int ox0 = 0; ox0 < P_OW; ox0 += NR) {
                if (rows == MR) tile8(x, w, y, bias, e, tile, xrow + ox0 * P_SW, n, oc0, oy, ox0, second);
                else for (int r = 0; r < rows; r++) tile1(x, w, y, bias, e, tile, xrow + ox0 * P_SW, n, oc0 + r, oy, ox0, second);
            }
        }
    }

    private static void tile8(float[] x, float[] w, float[] y, float[] bias, float[] e, float[] tt, int xbase, int n, int oc0, int oy, int ox0, boolean second) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        boolean full = P_ROWS2 == 0 && ox0 + NR <= P_OW;
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = P_ROWS2 == 0 ? S.indexInRange(ox0 + L, P_OW)
                : second ? S.indexInRange(0, P_OW) : S.maskAll(false);   // inline: a mask returned from a call may be boxed
        // a missing second row is masked off, but masked-off lanes are still range-checked: keep them on the first row
        int xNext = P_ROWS2 == 1 && !second ? 0 : X_NEXT;
        int wb = P_W_OFF + oc0 * KTOT;
        for (int c = 0; c < P_CG; c++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = xbase + c * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW;
                    // spelled out, not a helper: a returned vector crosses a call C2 might not inline
                    FloatVector b0 = P_SW == 1 ? (full ? FloatVector.fromArray(S, x, at) : FloatVector.fromArray(S, x, at, k0))
                            : (full ? FloatVector.fromArray(S, x, at, IDX, 0) : FloatVector.fromArray(S, x, at, IDX_TAIL, 0, k0));
                    FloatVector b1 = P_SW == 1 ? (full ? FloatVector.fromArray(S, x, at + xNext) : FloatVector.fromArray(S, x, at + xNext, k1))
                            : P_ROWS2 == 1 ? FloatVector.fromArray(S, x, at + xNext, IDX_TAIL, 0, k1)
                            : (full ? FloatVector.fromArray(S, x, at, IDX, L) : FloatVector.fromArray(S, x, at, IDX_TAIL, L, k1));
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
        c00.intoArray(tt, 0); c01.intoArray(tt, L); c10.intoArray(tt, NR); c11.intoArray(tt, NR + L);
        c20.intoArray(tt, 2 * NR); c21.intoArray(tt, 2 * NR + L); c30.intoArray(tt, 3 * NR); c31.intoArray(tt, 3 * NR + L);
        c40.intoArray(tt, 4 * NR); c41.intoArray(tt, 4 * NR + L); c50.intoArray(tt, 5 * NR); c51.intoArray(tt, 5 * NR + L);
        c60.intoArray(tt, 6 * NR); c61.intoArray(tt, 6 * NR + L); c70.intoArray(tt, 7 * NR); c71.intoArray(tt, 7 * NR + L);
        for (int r = 0; r < MR; r++) store(y, bias, e, tt, r, n, oc0 + r, oy, ox0, full, second);
    }

    private static void tile1(float[] x, float[] w, float[] y, float[] bias, float[] e, float[] tt, int xbase, int n, int oc, int oy, int ox0, boolean second) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        boolean full = P_ROWS2 == 0 && ox0 + NR <= P_OW;
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = P_ROWS2 == 0 ? S.indexInRange(ox0 + L, P_OW)
                : second ? S.indexInRange(0, P_OW) : S.maskAll(false);   // inline: a mask returned from a call may be boxed
        // a missing second row is masked off, but masked-off lanes are still range-checked: keep them on the first row
        int xNext = P_ROWS2 == 1 && !second ? 0 : X_NEXT;
        int wb = P_W_OFF + oc * KTOT;
        for (int c = 0; c < P_CG; c++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = xbase + c * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW;
                    FloatVector a = FloatVector.broadcast(S, w[wb + (c * P_KH + ky) * P_KW + kx]);
                    FloatVector b0 = P_SW == 1 ? (full ? FloatVector.fromArray(S, x, at) : FloatVector.fromArray(S, x, at, k0))
                            : (full ? FloatVector.fromArray(S, x, at, IDX, 0) : FloatVector.fromArray(S, x, at, IDX_TAIL, 0, k0));
                    FloatVector b1 = P_SW == 1 ? (full ? FloatVector.fromArray(S, x, at + xNext) : FloatVector.fromArray(S, x, at + xNext, k1))
                            : P_ROWS2 == 1 ? FloatVector.fromArray(S, x, at + xNext, IDX_TAIL, 0, k1)
                            : (full ? FloatVector.fromArray(S, x, at, IDX, L) : FloatVector.fromArray(S, x, at, IDX_TAIL, L, k1));
                    c0 = a.fma(b0, c0);
                    c1 = a.fma(b1, c1);
                }
        c0.intoArray(tt, 0);
        c1.intoArray(tt, L);
        store(y, bias, e, tt, 0, n, oc, oy, ox0, full, second);
    }

    /** Row r of the parked accumulator tile through bias and epilogue into Y (vectors never cross a call as arguments). */
    private static void store(float[] y, float[] bias, float[] e, float[] tt, int r, int n, int oc, int oy, int ox0, boolean full, boolean second) {
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = P_ROWS2 == 0 ? S.indexInRange(ox0 + L, P_OW)
                : second ? S.indexInRange(0, P_OW) : S.maskAll(false);   // inline: a mask returned from a call may be boxed
        FloatVector v0 = FloatVector.fromArray(S, tt, r * NR), v1 = FloatVector.fromArray(S, tt, r * NR + L);
        float b = bias[P_B_OFF + oc];
        v0 = v0.add(b);
        v1 = v1.add(b);
        FloatVector e0 = null, e1 = null;
        if (P_EXTRA != 0) {
            int eo = P_E_OFF + n * P_E_S0 + oc * P_E_S1 + oy * P_E_S2 + ox0;
            e0 = full ? FloatVector.fromArray(S, e, eo) : FloatVector.fromArray(S, e, eo, k0);
            e1 = full ? FloatVector.fromArray(S, e, eo + (P_ROWS2 == 1 && !second ? 0 : E_NEXT)) : FloatVector.fromArray(S, e, eo + (P_ROWS2 == 1 && !second ? 0 : E_NEXT), k1);
        }
        // the epilogue written out, not called: C2 declined to inline it here ("low call site
        // frequency"), and two vectors crossing a call are boxed on every output tile
        v0 = VecMath.epilogue(v0, e0, P_EPI);    // the epilogue's code, written inline by the specialiser
        v1 = VecMath.epilogue(v1, e1, P_EPI);
        int yo = P_Y_OFF + n * P_Y_S0 + oc * P_Y_S1 + oy * P_Y_S2 + ox0;
        if (full) {
            v0.intoArray(y, yo);
            v1.intoArray(y, yo + (P_ROWS2 == 1 && !second ? 0 : Y_NEXT));
        } else {
            v0.intoArray(y, yo, k0);
            v1.intoArray(y, yo + (P_ROWS2 == 1 && !second ? 0 : Y_NEXT), k1);
        }
    }
}
