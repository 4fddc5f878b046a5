package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max or average pooling over [N,C,H,W]; a task is ROWS output rows of one plane, each in two passes.
 * Vertical: the window's input rows reduce into a per-thread row buffer (contiguous loads, every
 * input element read once per output row). Horizontal: each output vector reduces KW reads of
 * that buffer ({@link Strided} at stride 2, a gather from L1 at larger strides). The buffer carries the padding as neutral
 * elements (−∞ for max, 0 for average) on both sides, so no window needs clipping; an average
 * divides by its window's counted rows × counted columns (padding counted per COUNT_PAD).
 * Max follows Math.max: a NaN in the window gives NaN. Gathering straight from the input was
 * KH·KW gathers per output vector: ResNet-18's 3×3/2 pool took 0.6 ms, SqueezeNet's three 0.86.
 */
public final class PoolKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_C, P_H, P_W, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL, P_PB, P_PR, P_MAX, P_COUNT_PAD;
    /** Output rows per task, and tasks per plane (ceil(OH / ROWS)): a row per task left small pools (cnn's 12×12) mostly dispatch. */
    static int P_ROWS, P_RT;
    static final float NEUTRAL = P_MAX == 1 ? Float.NEGATIVE_INFINITY : 0f;
    /** Row buffer: PL neutral columns, the W input columns, then neutral past every window a (full-vector) output reads. */
    static final int ROW = P_PL + P_W + (P_OW + L) * P_SW + P_KW + L;
    /** Per output column (padded to whole vectors): how many of its window's columns count toward an average. */
    static final float[] COLS = columnCounts();
    static final int[] IDX = indexMap();

    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    private static int[] indexMap() {
        int[] m = new int[L];
        for (int i = 0; i < L; i++) m[i] = i * P_SW;
        return m;
    }

    private static float[] columnCounts() {
        float[] c = new float[(P_OW + L - 1) / L * L];
        for (int ox = 0; ox < P_OW; ox++)
            for (int kx = 0; kx < P_KW; kx++) {
                int ix = ox * P_SW - P_PL + kx;
                if (ix >= 0 && ix < P_W || P_COUNT_PAD == 1 && ix < P_W + P_PR) c[ox]++;
            }
        for (int ox = P_OW; ox < c.length; ox++) c[ox] = 1;
        return c;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], r = ThreadScratch.of(SCRATCH, ROW);
        java.util.Arrays.fill(r, NEUTRAL);
        for (int t = lo; t < hi; t++) {
            int plane = t / P_RT, c = plane % P_C, n = plane / P_C, oy0 = t % P_RT * P_ROWS;
            int xo = P_X_OFF + n * P_X_S0 + c * P_X_S1;
            for (int oy = oy0; oy < Math.min(P_OH, oy0 + P_ROWS); oy++) {
                int yo = P_Y_OFF + n * P_Y_S0 + c * P_Y_S1 + oy * P_Y_S2;
                int y0 = oy * P_SH - P_PT, first = Math.max(0, y0), last = Math.min(P_H, y0 + P_KH);
                int rows = P_COUNT_PAD == 1 ? Math.min(P_H + P_PB, y0 + P_KH) - y0 : last - first;
                vertical(x, r, xo, first, last);
                horizontal(r, y, yo, rows);
            }
        }
    }

    /** r[PL + ix] = the reduction of x over rows [first, last) at column ix; neutral when no row is inside. */
    private static void vertical(float[] x, float[] r, int xo, int first, int last) {
        for (int ix = 0; ix < P_W; ix += L) {
            boolean full = ix + L <= P_W;
            VectorMask<Float> m = S.indexInRange(ix, P_W);
            FloatVector acc = FloatVector.broadcast(S, NEUTRAL);
            for (int iy = first; iy < last; iy++) {
                int at = xo + iy * P_X_S2 + ix;
                FloatVector v = full ? FloatVector.fromArray(S, x, at) : FloatVector.fromArray(S, x, at, m);
                acc = P_MAX == 1 ? acc.max(v) : acc.add(v);
            }
            if (full) acc.intoArray(r, P_PL + ix);
            else acc.intoArray(r, P_PL + ix, m);
        }
    }

    /** y[ox] = the reduction of r over ox·SW + [0, KW), for each output column of the row. */
    private static void horizontal(float[] r, float[] y, int yo, int rows) {
        for (int ox = 0; ox < P_OW; ox += L) {
            FloatVector acc = FloatVector.broadcast(S, NEUTRAL);
            for (int kx = 0; kx < P_KW; kx++) {
                FloatVector v = P_SW == 1 ? FloatVector.fromArray(S, r, ox + kx)
                        : P_SW == 2 ? Strided.evenLanes(r, 2 * ox + kx) : FloatVector.fromArray(S, r, ox * P_SW + kx, IDX, 0);
                acc = P_MAX == 1 ? acc.max(v) : acc.add(v);
            }
            if (P_MAX == 0) acc = acc.div(FloatVector.fromArray(S, COLS, ox).mul(rows));
            if (ox + L <= P_OW) acc.intoArray(y, yo + ox);
            else acc.intoArray(y, yo + ox, S.indexInRange(ox, P_OW));
        }
    }
}
