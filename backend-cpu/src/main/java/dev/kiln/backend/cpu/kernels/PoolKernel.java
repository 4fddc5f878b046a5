package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max or average pooling over [N,C,H,W]; one task per output row (n, c, oy). Output columns
 * whose windows lie inside the row are computed a vector at a time (lane i reads column
 * i·SW + kx, a gather when strided); the columns near the borders, whose windows are clipped
 * (padding counts as −∞ for max, and per COUNT_PAD for average), one at a time.
 */
public final class PoolKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_C, P_H, P_W, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL, P_PB, P_PR, P_MAX, P_COUNT_PAD;
    /** Output columns [OX_LO, OX_HI) have their whole window inside the row. */
    static final int OX_LO = Math.min(P_OW, (P_PL + P_SW - 1) / P_SW), OX_HI = Math.max(OX_LO, Math.min(P_OW, Math.floorDiv(P_W - P_KW + P_PL, P_SW) + 1));
    /** The interior's last, partial vector: its lane count, and an index map whose idle lanes read column 0 (masked gathers still range-check them). */
    static final int TAIL = (OX_HI - OX_LO) % L;
    static final int[] IDX = indexMap(L), IDX_TAIL = indexMap(TAIL);

    private static int[] indexMap(int active) {
        int[] m = new int[L];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int oy = t % P_OH, c = t / P_OH % P_C, n = t / P_OH / P_C;
            int xo = P_X_OFF + n * P_X_S0 + c * P_X_S1, yo = P_Y_OFF + n * P_Y_S0 + c * P_Y_S1 + oy * P_Y_S2;
            int y0 = oy * P_SH - P_PT;
            int ox = OX_LO;
            for (; ox + L <= OX_HI; ox += L) interior(x, y, xo, yo, y0, ox, false);
            if (TAIL > 0) {
                interior(x, y, xo, yo, y0, ox, true);
                ox += TAIL;
            }
            for (int o = 0; o < P_OW; o++) if (o < OX_LO || o >= ox) scalar(x, y, xo, yo, y0, o);
        }
    }

    /** L output columns whose windows are inside the row; rows outside the image are skipped (or counted, COUNT_PAD). */
    private static void interior(float[] x, float[] y, int xo, int yo, int y0, int ox, boolean tail) {
        VectorMask<Float> m = S.indexInRange(0, tail ? TAIL : L);
        FloatVector acc = FloatVector.broadcast(S, P_MAX == 1 ? Float.NEGATIVE_INFINITY : 0f);
        int rows = 0;
        for (int ky = 0; ky < P_KH; ky++) {
            int iy = y0 + ky;
            if (iy < 0 || iy >= P_H) {
                if (P_MAX == 0 && P_COUNT_PAD == 1 && iy < P_H + P_PB) rows++;
                continue;
            }
            rows++;
            int base = xo + iy * P_X_S2 + ox * P_SW - P_PL;
            for (int kx = 0; kx < P_KW; kx++) {
                FloatVector v = P_SW == 1 ? (tail ? FloatVector.fromArray(S, x, base + kx, m) : FloatVector.fromArray(S, x, base + kx))
                        : (tail ? FloatVector.fromArray(S, x, base + kx, IDX_TAIL, 0, m) : FloatVector.fromArray(S, x, base + kx, IDX, 0));
                // compare+blend, not max(): NaN sticks once taken (NaN > v is false), as in the scalar path
                if (P_MAX == 1) acc = acc.blend(v, v.compare(VectorOperators.GT, acc).or(v.test(VectorOperators.IS_NAN)));
                else acc = acc.add(v);
            }
        }
        if (P_MAX == 0) acc = acc.div(rows * P_KW);
        if (tail) acc.intoArray(y, yo + ox, m);
        else acc.intoArray(y, yo + ox);
    }

    /** One output column, window clipped at the borders. */
    private static void scalar(float[] x, float[] y, int xo, int yo, int y0, int ox) {
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
