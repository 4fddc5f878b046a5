package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2×2, 3×3) output transform: Y = Aᵀ·M·A for each tile's 4×4 products M (one per ξ,
 * from the 16 GEMMs), with Aᵀ = [[1,1,1,0],[0,1,-1,-1]], then + bias and the anchor's epilogue,
 * into the result's placement. Tiles lie along the lanes as in {@link WinogradInputKernel}; each
 * of a tile's four outputs is scattered through a constant map, masked where the tile hangs over
 * the bottom or right edge (odd OH or OW) or past the chunk's last tile. Masked-off lanes still
 * have their index range-checked, so their map entries point at a valid place (offset 0).
 * M is [ξ][O][TP]. A task is (output channel, vector of tiles).
 */
public final class WinogradOutputKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    static int P_M_SLOT, P_M_OFF, P_O, P_T0, P_TILES, P_TH, P_TW, P_OH, P_OW;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_B_SLOT, P_B_OFF, P_EXTRA, P_EPI;
    static final int NBV = (P_TILES + L - 1) / L, NL = NBV * L, TP = (P_TILES + NR - 1) / NR * NR, MB = P_O * TP;
    /** For output q = 2·di + dj of each lane's tile: [q·NL + lane]. */
    static final boolean[] KEEP = keep();
    static final int[] YMAP = map(P_Y_S0, P_Y_S2), EMAP = map(P_E_S0, P_E_S2);

    private static boolean inside(int i, int q) {
        if (i >= P_TILES) return false;
        int perImage = P_TH * P_TW, r = (P_T0 + i) % perImage;
        return 2 * (r / P_TW) + q / 2 < P_OH && 2 * (r % P_TW) + q % 2 < P_OW;
    }

    private static boolean[] keep() {
        boolean[] k = new boolean[4 * NL];
        for (int q = 0; q < 4; q++) for (int i = 0; i < NL; i++) k[q * NL + i] = inside(i, q);
        return k;
    }

    private static int[] map(int s0, int s2) {
        int[] m = new int[4 * NL];
        int perImage = P_TH * P_TW;
        for (int q = 0; q < 4; q++)
            for (int i = 0; i < NL; i++) {
                if (!inside(i, q)) continue;
                int t = P_T0 + i, r = t % perImage;
                m[q * NL + i] = t / perImage * s0 + (2 * (r / P_TW) + q / 2) * s2 + 2 * (r % P_TW) + q % 2;
            }
        return m;
    }

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] m = bufs[P_M_SLOT], y = bufs[P_Y_SLOT], bias = bufs[P_B_SLOT], e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] tt = ThreadScratch.of(SCRATCH, 4 * L);
        for (int t = lo; t < hi; t++) {
            int o = t / NBV, i0 = t % NBV * L;
            transform(m, tt, P_M_OFF + o * TP + i0);
            // one output position per call: the epilogue's code is written out once per call, keeping each method small
            for (int q = 0; q < 4; q++) store(y, bias, e, tt, q, o, i0);
        }
    }

    /** Rows first (tR = Aᵀ applied down column R), then along them; the tile's four outputs parked in tt. */
    private static void transform(float[] m, float[] tt, int mo) {
        FloatVector a0, a1, a2, a3;
        a0 = FloatVector.fromArray(S, m, mo); a1 = FloatVector.fromArray(S, m, mo + 4 * MB);
        a2 = FloatVector.fromArray(S, m, mo + 8 * MB); a3 = FloatVector.fromArray(S, m, mo + 12 * MB);
        FloatVector t00 = a0.add(a1).add(a2), t10 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(S, m, mo + MB); a1 = FloatVector.fromArray(S, m, mo + 5 * MB);
        a2 = FloatVector.fromArray(S, m, mo + 9 * MB); a3 = FloatVector.fromArray(S, m, mo + 13 * MB);
        FloatVector t01 = a0.add(a1).add(a2), t11 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(S, m, mo + 2 * MB); a1 = FloatVector.fromArray(S, m, mo + 6 * MB);
        a2 = FloatVector.fromArray(S, m, mo + 10 * MB); a3 = FloatVector.fromArray(S, m, mo + 14 * MB);
        FloatVector t02 = a0.add(a1).add(a2), t12 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(S, m, mo + 3 * MB); a1 = FloatVector.fromArray(S, m, mo + 7 * MB);
        a2 = FloatVector.fromArray(S, m, mo + 11 * MB); a3 = FloatVector.fromArray(S, m, mo + 15 * MB);
        FloatVector t03 = a0.add(a1).add(a2), t13 = a1.sub(a2).sub(a3);
        t00.add(t01).add(t02).intoArray(tt, 0);
        t01.sub(t02).sub(t03).intoArray(tt, L);
        t10.add(t11).add(t12).intoArray(tt, 2 * L);
        t11.sub(t12).sub(t13).intoArray(tt, 3 * L);
    }

    /** Output q of the L tiles at lane i0: bias, epilogue (extra gathered through its own map), scattered into Y. */
    private static void store(float[] y, float[] bias, float[] e, float[] tt, int q, int o, int i0) {
        VectorMask<Float> k = VectorMask.fromArray(S, KEEP, q * NL + i0);
        FloatVector v = FloatVector.fromArray(S, tt, q * L).add(bias[P_B_OFF + o]);
        FloatVector ev = null;
        if (P_EXTRA != 0) ev = FloatVector.fromArray(S, e, P_E_OFF + o * P_E_S1, EMAP, q * NL + i0, k);
        v = VecMath.epilogue(v, ev, P_EPI);    // the epilogue's code, written inline by the specialiser
        v.intoArray(y, P_Y_OFF + o * P_Y_S1, YMAP, q * NL + i0, k);
    }
}
