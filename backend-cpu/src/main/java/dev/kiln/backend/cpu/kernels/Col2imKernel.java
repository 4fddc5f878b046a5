package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The second half of a transposed convolution: sums the GEMM's column matrix
 * C[image][group][(j, ky, kx)][iy·W + ix] (input pixel times one tap of the kernel) onto output
 * rows, adds the bias and applies the epilogue. Output-stationary: a task is one output row of
 * one channel (image, channel, oy) and gathers every tap that reaches it, so no two tasks write
 * the same element and no sum needs a lock.
 *
 * <p>For a fixed (ky, kx) the taps of a row land on columns ix·SW + u (u = kx·DW − PL): every
 * SW-th output column. The row is therefore accumulated de-interleaved by phase (column
 * ox = q·SW + ph at ph·PW + q), where each tap's run of input columns is one contiguous
 * vector add; the final pass gathers the columns back in order through a constant index map.
 */
public final class Col2imKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static int P_C_SLOT, P_C_OFF, P_G, P_OG, P_KH, P_KW, P_H, P_W, P_OH, P_OW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_E_SLOT, P_E_OFF, P_E_S0, P_E_S1, P_E_S2;
    static int P_B_SLOT, P_B_OFF, P_EXTRA, P_EPI;
    static final int HW = P_H * P_W, TAPS = P_KH * P_KW, M = P_OG * TAPS, O = P_G * P_OG;
    /** Columns per phase, and the accumulator row rounded up to whole vectors (the final pass loads whole vectors). */
    static final int PW = (P_OW + P_SW - 1) / P_SW, OWV = (P_OW + L - 1) / L * L, ROW = Math.max(OWV, (P_SW * PW + L - 1) / L * L);
    /** Output column ox is kept at IDX[ox]; columns past the row read element 0 (never stored). */
    static final int[] IDX = interleave();

    private static int[] interleave() {
        int[] m = new int[OWV];
        for (int ox = 0; ox < P_OW; ox++) m[ox] = ox % P_SW * PW + ox / P_SW;
        return m;
    }

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] cols = bufs[P_C_SLOT], y = bufs[P_Y_SLOT], bias = bufs[P_B_SLOT];
        float[] e = P_EXTRA == 0 ? null : bufs[P_E_SLOT], acc = ThreadScratch.of(SCRATCH, ROW);
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, oc = t / P_OH % O, n = t / P_OH / O;
            int g = oc / P_OG, j = oc % P_OG;
            zero(acc);
            int base = P_C_OFF + ((n * P_G + g) * M + j * TAPS) * HW;
            for (int ky = 0; ky < P_KH; ky++) {
                int ty = oy + P_PT - ky * P_DH;
                if (ty < 0 || ty % P_SH != 0 || ty / P_SH >= P_H) continue;
                for (int kx = 0; kx < P_KW; kx++) accumulate(cols, acc, base + (ky * P_KW + kx) * HW + ty / P_SH * P_W, kx);
            }
            finish(y, bias, e, acc, n, oc, oy);
        }
    }

    private static void zero(float[] acc) {
        FloatVector z = FloatVector.zero(S);
        for (int i = 0; i < ROW; i += L) z.intoArray(acc, i);
    }

    /** Adds input row src's taps through kx onto the phase row they land in. */
    private static void accumulate(float[] cols, float[] acc, int src, int kx) {
        int u = kx * P_DW - P_PL, ph = Math.floorMod(u, P_SW), off = Math.floorDiv(u, P_SW);
        // q = ix + off must lie in [0, qEnd) for its column q·SW + ph to lie in [0, OW)
        int qEnd = (P_OW - ph + P_SW - 1) / P_SW;
        int ix0 = Math.max(0, -off), ix1 = Math.min(P_W, qEnd - off);
        int dst = ph * PW + off, i = ix0;
        for (; i + L <= ix1; i += L)
            FloatVector.fromArray(S, acc, dst + i).add(FloatVector.fromArray(S, cols, src + i)).intoArray(acc, dst + i);
        for (; i < ix1; i++) acc[dst + i] += cols[src + i];
    }

    /** The accumulated row, back in column order, through bias and epilogue into Y. */
    private static void finish(float[] y, float[] bias, float[] e, float[] acc, int n, int oc, int oy) {
        float b = bias[P_B_OFF + oc];
        int yo = P_Y_OFF + n * P_Y_S0 + oc * P_Y_S1 + oy * P_Y_S2, eo = P_E_OFF + n * P_E_S0 + oc * P_E_S1 + oy * P_E_S2;
        for (int ox = 0; ox < P_OW; ox += L) {
            boolean full = ox + L <= P_OW;
            VectorMask<Float> k = S.indexInRange(ox, P_OW);
            FloatVector v = P_SW == 1 ? FloatVector.fromArray(S, acc, ox) : FloatVector.fromArray(S, acc, 0, IDX, ox);
            v = v.add(b);
            FloatVector ev = null;
            if (P_EXTRA != 0) ev = full ? FloatVector.fromArray(S, e, eo + ox) : FloatVector.fromArray(S, e, eo + ox, k);
            v = VecMath.epilogue(v, ev, P_EPI);    // the epilogue's code, written inline by the specialiser
            if (full) v.intoArray(y, yo + ox);
            else v.intoArray(y, yo + ox, k);
        }
    }
}
