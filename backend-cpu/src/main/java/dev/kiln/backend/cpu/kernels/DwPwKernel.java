package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused depthwise + pointwise convolution, one output row per task: the depthwise results of
 * that row for every channel go into a small scratch ([C][OW], a few KB, cache resident) and
 * the pointwise GEMM consumes them at once (8 output channels × 2 vectors per register tile).
 * The [N,C,OH,OW] intermediate never exists. The input carries a halo covering the padding.
 */
public final class DwPwKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L, MR = 8;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_DW_SLOT, P_DWB_SLOT, P_PW_SLOT, P_PWB_SLOT;
    /** The pointwise weights' full 8-row blocks packed as [O/8][C][8] at compile time, so a tile's 8 broadcasts are adjacent. */
    static int P_PWP_SLOT;
    static int P_C, P_O, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL;
    static int P_MID_ACT, P_COMBINE, P_ACT;
    static float P_MID_ALPHA, P_ALPHA;
    static final int OWP = (P_OW + NR - 1) / NR * NR;
    static final int[] IDX = indexMap(L), IDX_TAIL = indexMap(P_OW % L);

    /** Lane i reads column i·SW; lanes from {@code active} on (past the row's end) read column 0, since a masked gather still range-checks them. */
    private static int[] indexMap(int active) {
        int[] m = new int[L];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    /** Per-thread scratch, made on a thread's first call: the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>(), TILE = new ThreadLocal<>();

    private static float[] scratch(ThreadLocal<float[]> local, int floats) {
        float[] s = local.get();
        if (s == null) {
            s = new float[floats];
            local.set(s);
        }
        return s;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], dw = bufs[P_DW_SLOT], dwb = bufs[P_DWB_SLOT];
        float[] pw = bufs[P_PW_SLOT], pwp = bufs[P_PWP_SLOT], pwb = bufs[P_PWB_SLOT], e = P_COMBINE == 0 ? null : bufs[P_E_SLOT];
        float[] mid = scratch(SCRATCH, P_C * OWP), tile = scratch(TILE, MR * NR);
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, n = t / P_OH;
            depthwiseRow(x, dw, dwb, mid, n, oy);
            for (int ox0 = 0; ox0 < P_OW; ox0 += NR) {
                int o = 0;
                for (; o + MR <= P_O; o += MR) pointwise8(mid, pwp, pwb, y, e, tile, n, o, oy, ox0);
                for (; o < P_O; o++) pointwise1(mid, pw, pwb, y, e, tile, n, o, oy, ox0);
            }
        }
    }

    private static void depthwiseRow(float[] x, float[] dw, float[] dwb, float[] mid, int n, int oy) {
        int rowBase = P_X_OFF + n * P_X_S0 + (oy * P_SH - P_PT) * P_X_S2 - P_PL;
        for (int c = 0; c < P_C; c++) {
            int cb = rowBase + c * P_X_S1, wb = c * P_KH * P_KW;
            float bias = dwb[c];
            // vectors wholly past OW are never computed: their lanes of mid stay 0 and are never stored
            int ox0 = 0;
            // four vectors at a time: four independent FMA chains instead of one 9-deep chain
            for (; ox0 + 4 * L <= P_OW; ox0 += 4 * L) {
                FloatVector a0 = FloatVector.broadcast(S, bias), a1 = a0, a2 = a0, a3 = a0;
                for (int ky = 0; ky < P_KH; ky++)
                    for (int kx = 0; kx < P_KW; kx++) {
                        int at = cb + ky * P_DH * P_X_S2 + kx * P_DW + ox0 * P_SW;
                        FloatVector w = FloatVector.broadcast(S, dw[wb + ky * P_KW + kx]);
                        if (P_SW == 1) {
                            a0 = FloatVector.fromArray(S, x, at).fma(w, a0);
                            a1 = FloatVector.fromArray(S, x, at + L).fma(w, a1);
                            a2 = FloatVector.fromArray(S, x, at + 2 * L).fma(w, a2);
                            a3 = FloatVector.fromArray(S, x, at + 3 * L).fma(w, a3);
                        } else {
                            a0 = FloatVector.fromArray(S, x, at, IDX, 0).fma(w, a0);
                            a1 = FloatVector.fromArray(S, x, at + L * P_SW, IDX, 0).fma(w, a1);
                            a2 = FloatVector.fromArray(S, x, at + 2 * L * P_SW, IDX, 0).fma(w, a2);
                            a3 = FloatVector.fromArray(S, x, at + 3 * L * P_SW, IDX, 0).fma(w, a3);
                        }
                    }
                int mo = c * OWP + ox0;
                VecMath.apply(a0, P_MID_ACT, P_MID_ALPHA).intoArray(mid, mo);
                VecMath.apply(a1, P_MID_ACT, P_MID_ALPHA).intoArray(mid, mo + L);
                VecMath.apply(a2, P_MID_ACT, P_MID_ALPHA).intoArray(mid, mo + 2 * L);
                VecMath.apply(a3, P_MID_ACT, P_MID_ALPHA).intoArray(mid, mo + 3 * L);
            }
            for (; ox0 < P_OW; ox0 += L) {
                VectorMask<Float> m = S.indexInRange(ox0, P_OW);
                boolean full = ox0 + L <= P_OW;
                FloatVector acc = FloatVector.broadcast(S, bias);
                for (int ky = 0; ky < P_KH; ky++)
                    for (int kx = 0; kx < P_KW; kx++) {
                        int at = cb + ky * P_DH * P_X_S2 + kx * P_DW + ox0 * P_SW;
                        FloatVector v;
                        if (P_SW == 1) v = full ? FloatVector.fromArray(S, x, at) : FloatVector.fromArray(S, x, at, m);
                        else v = full ? FloatVector.fromArray(S, x, at, IDX, 0) : FloatVector.fromArray(S, x, at, IDX_TAIL, 0, m);
                        acc = v.fma(FloatVector.broadcast(S, dw[wb + ky * P_KW + kx]), acc);
                    }
                VecMath.apply(acc, P_MID_ACT, P_MID_ALPHA).intoArray(mid, c * OWP + ox0);
            }
        }
    }

    private static void pointwise8(float[] mid, float[] pwp, float[] pwb, float[] y, float[] e, float[] tt, int n, int o0, int oy, int ox0) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        int wb = o0 * P_C;   // block o0/8 of the packed weights starts at (o0/8)·C·8
        for (int c = 0; c < P_C; c++) {
            FloatVector b0 = FloatVector.fromArray(S, mid, c * OWP + ox0), b1 = FloatVector.fromArray(S, mid, c * OWP + ox0 + L);
            int wo = wb + c * MR;
            FloatVector a;
            a = FloatVector.broadcast(S, pwp[wo]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pwp[wo + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pwp[wo + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pwp[wo + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pwp[wo + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pwp[wo + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, pwp[wo + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, pwp[wo + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        c00.intoArray(tt, 0); c01.intoArray(tt, L); c10.intoArray(tt, NR); c11.intoArray(tt, NR + L);
        c20.intoArray(tt, 2 * NR); c21.intoArray(tt, 2 * NR + L); c30.intoArray(tt, 3 * NR); c31.intoArray(tt, 3 * NR + L);
        c40.intoArray(tt, 4 * NR); c41.intoArray(tt, 4 * NR + L); c50.intoArray(tt, 5 * NR); c51.intoArray(tt, 5 * NR + L);
        c60.intoArray(tt, 6 * NR); c61.intoArray(tt, 6 * NR + L); c70.intoArray(tt, 7 * NR); c71.intoArray(tt, 7 * NR + L);
        for (int r = 0; r < MR; r++) store(pwb, y, e, tt, r, n, o0 + r, oy, ox0);
    }

    private static void pointwise1(float[] mid, float[] pw, float[] pwb, float[] y, float[] e, float[] tt, int n, int o, int oy, int ox0) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        for (int c = 0; c < P_C; c++) {
            FloatVector a = FloatVector.broadcast(S, pw[o * P_C + c]);
            c0 = a.fma(FloatVector.fromArray(S, mid, c * OWP + ox0), c0);
            c1 = a.fma(FloatVector.fromArray(S, mid, c * OWP + ox0 + L), c1);
        }
        c0.intoArray(tt, 0);
        c1.intoArray(tt, L);
        store(pwb, y, e, tt, 0, n, o, oy, ox0);
    }

    /** Row r of the parked accumulator tile through bias and epilogue into Y (vectors never cross a call as arguments). */
    private static void store(float[] pwb, float[] y, float[] e, float[] tt, int r, int n, int o, int oy, int ox0) {
        FloatVector v0 = FloatVector.fromArray(S, tt, r * NR), v1 = FloatVector.fromArray(S, tt, r * NR + L);
        boolean full = ox0 + NR <= P_OW;
        VectorMask<Float> k0 = S.indexInRange(ox0, P_OW), k1 = S.indexInRange(ox0 + L, P_OW);
        float b = pwb[o];
        v0 = v0.add(b);
        v1 = v1.add(b);
        FloatVector e0 = null, e1 = null;
        if (P_COMBINE != 0) {
            int eo = P_E_OFF + n * P_E_S0 + o * P_E_S1 + oy * P_E_S2 + ox0;
            e0 = full ? FloatVector.fromArray(S, e, eo) : FloatVector.fromArray(S, e, eo, k0);
            e1 = full ? FloatVector.fromArray(S, e, eo + L) : FloatVector.fromArray(S, e, eo + L, k1);
        }
        v0 = epilogue(v0, e0);
        v1 = epilogue(v1, e1);
        int yo = P_Y_OFF + n * P_Y_S0 + o * P_Y_S1 + oy * P_Y_S2 + ox0;
        if (full) {
            v0.intoArray(y, yo);
            v1.intoArray(y, yo + L);
        } else {
            v0.intoArray(y, yo, k0);
            v1.intoArray(y, yo + L, k1);
        }
    }

    /** Bias already added: COMBINE 1 adds extra before the activation, 2 multiplies after it (branches fold away). */
    private static FloatVector epilogue(FloatVector v, FloatVector extra) {
        if (P_COMBINE == 1) v = v.add(extra);
        v = VecMath.apply(v, P_ACT, P_ALPHA);
        return P_COMBINE == 2 ? v.mul(extra) : v;
    }
}
