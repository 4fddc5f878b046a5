package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2×2, 3×3) input transform: V = Bᵀ·d·B for each 4×4 input tile d, per channel,
 * with Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]. Tiles lie along the lanes: a vector
 * holds L consecutive tiles of one chunk, gathered through a constant map from tile to its
 * top-left input offset, so a vector may span tile rows and images (no lanes idle at the end of
 * a short tile row). The input carries a zero halo covering every tile (the lowering extends the
 * bottom/right padding by one for odd outputs), so no load is bounds checked.
 *
 * <p>V is written as the GEMM's packed right operand, one batch per ξ (the 16 tile positions):
 * V[ξ][t / NR][c][t % NR], TP (the chunk's tiles rounded up to NR) columns per batch. Lanes past
 * the chunk's last tile repeat that tile: finite values in columns whose products are never stored.
 * A task is (channel, vector of tiles).
 */
public final class WinogradInputKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    /** X_OFF is where the chunk's tile grid starts: the interior origin moved up by PT rows and left by PL columns. */
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2;
    static int P_V_SLOT, P_V_OFF, P_C, P_T0, P_TILES, P_TH, P_TW;
    static final int NBV = (P_TILES + L - 1) / L, TP = (P_TILES + NR - 1) / NR * NR, VB = P_C * TP;
    static final int[] MAP = tileMap();

    /** Lane i of the chunk to the input offset of its tile's top-left corner (tile numbers run over images, then tile rows, then columns). */
    private static int[] tileMap() {
        int[] m = new int[NBV * L];
        int perImage = P_TH * P_TW;
        for (int i = 0; i < m.length; i++) {
            int t = P_T0 + Math.min(i, P_TILES - 1), r = t % perImage;
            m[i] = t / perImage * P_X_S0 + 2 * (r / P_TW) * P_X_S2 + 2 * (r % P_TW);
        }
        return m;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], v = bufs[P_V_SLOT];
        for (int t = lo; t < hi; t++) {
            int c = t / NBV, i0 = t % NBV * L;
            transform(x, v, P_X_OFF + c * P_X_S1, P_V_OFF + i0 / NR * P_C * NR + c * NR + i0 % NR, i0);
        }
    }

    /** Columns first (eRJ = Bᵀ applied down column J, row R of the result), then rows; each of the 16 results stored at once. */
    private static void transform(float[] x, float[] v, int xb, int vo, int i0) {
        final int r1 = P_X_S2, r2 = 2 * P_X_S2, r3 = 3 * P_X_S2;
        FloatVector d0, d1, d2, d3;
        d0 = FloatVector.fromArray(S, x, xb, MAP, i0); d1 = FloatVector.fromArray(S, x, xb + r1, MAP, i0);
        d2 = FloatVector.fromArray(S, x, xb + r2, MAP, i0); d3 = FloatVector.fromArray(S, x, xb + r3, MAP, i0);
        FloatVector e00 = d0.sub(d2), e10 = d1.add(d2), e20 = d2.sub(d1), e30 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, x, xb + 1, MAP, i0); d1 = FloatVector.fromArray(S, x, xb + r1 + 1, MAP, i0);
        d2 = FloatVector.fromArray(S, x, xb + r2 + 1, MAP, i0); d3 = FloatVector.fromArray(S, x, xb + r3 + 1, MAP, i0);
        FloatVector e01 = d0.sub(d2), e11 = d1.add(d2), e21 = d2.sub(d1), e31 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, x, xb + 2, MAP, i0); d1 = FloatVector.fromArray(S, x, xb + r1 + 2, MAP, i0);
        d2 = FloatVector.fromArray(S, x, xb + r2 + 2, MAP, i0); d3 = FloatVector.fromArray(S, x, xb + r3 + 2, MAP, i0);
        FloatVector e02 = d0.sub(d2), e12 = d1.add(d2), e22 = d2.sub(d1), e32 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, x, xb + 3, MAP, i0); d1 = FloatVector.fromArray(S, x, xb + r1 + 3, MAP, i0);
        d2 = FloatVector.fromArray(S, x, xb + r2 + 3, MAP, i0); d3 = FloatVector.fromArray(S, x, xb + r3 + 3, MAP, i0);
        FloatVector e03 = d0.sub(d2), e13 = d1.add(d2), e23 = d2.sub(d1), e33 = d1.sub(d3);
        // row i of V = Bᵀ applied along row i of e; ξ = 4·i + k
        e00.sub(e02).intoArray(v, vo); e01.add(e02).intoArray(v, vo + VB); e02.sub(e01).intoArray(v, vo + 2 * VB); e01.sub(e03).intoArray(v, vo + 3 * VB);
        e10.sub(e12).intoArray(v, vo + 4 * VB); e11.add(e12).intoArray(v, vo + 5 * VB); e12.sub(e11).intoArray(v, vo + 6 * VB); e11.sub(e13).intoArray(v, vo + 7 * VB);
        e20.sub(e22).intoArray(v, vo + 8 * VB); e21.add(e22).intoArray(v, vo + 9 * VB); e22.sub(e21).intoArray(v, vo + 10 * VB); e21.sub(e23).intoArray(v, vo + 11 * VB);
        e30.sub(e32).intoArray(v, vo + 12 * VB); e31.add(e32).intoArray(v, vo + 13 * VB); e32.sub(e31).intoArray(v, vo + 14 * VB); e31.sub(e33).intoArray(v, vo + 15 * VB);
    }
}
