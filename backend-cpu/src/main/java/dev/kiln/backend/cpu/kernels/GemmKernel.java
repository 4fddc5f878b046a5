package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = epilogue(A·B) for a batch of [M,K]·[K,N] products, vectorised along N. A is read by
 * broadcast through strides; B either row-major with unit stride along N, or (B_PANEL=1)
 * packed into panels of NR = 2 vectors: [N/NR][K][NR] (one set per batch when the batch strides are not zero). The register tile is
 * 8 rows × 2 vectors (16 accumulators in locals); leftover rows use a 1-row tile, the last
 * partial column tile a mask. A task is (batch, 8-row block, chunk of column tiles).
 * Epilogue: + bias (BIAS_MODE 1 per row, 2 per column), then the anchor's epilogue (P_EPI,
 * reading the extra operand E when P_EXTRA is 1).
 *
 * <p>B_PANEL=2 is a convolution as an implicit GEMM: B is the im2col matrix of a conv input X
 * (row k = (input channel, ky, kx), column = output pixel of the flattened OH·OW plane, one
 * per batch = image), never materialised. A task packs its chunk of column tiles from X into a
 * per-thread panel (a tile that stays inside one input row is two plain loads per k, others a
 * gather with a per-tile index map), then sweeps its share of A's row blocks over it. When
 * several row chunks would pack the same tiles (small images, many channels), B_PANEL=3 packs
 * each tile once into scratch and a B_PANEL=1 GEMM follows. A
 * materialised column buffer was K·OH·OW floats written and read back per call: 1.4 ms of
 * copies per 64→64 3×3 conv at 56² in ResNet-18, as much as its GEMM.
 */
public final class GemmKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L, MR = 8;
    static int P_A_SLOT, P_A_OFF, P_A_RS, P_A_CS, P_A_BS0, P_A_BS1;
    static int P_B_SLOT, P_B_OFF, P_B_RS, P_B_BS0, P_B_BS1, P_B_PANEL;
    static int P_C_SLOT, P_C_OFF, P_C_RS, P_C_BS0, P_C_BS1;
    /** C_W > 0: C is a conv result planned with a halo, rows of C_W pixels C_S2 floats apart; a tile's pixels are stored row segment by row segment. */
    static int P_C_W, P_C_S2;
    static int P_E_SLOT, P_E_OFF, P_E_RS, P_E_BS0, P_E_BS1, P_BD1;
    static int P_M, P_N, P_K, P_MB, P_NCH, P_BIAS_MODE, P_BIAS_SLOT, P_BIAS_OFF, P_EXTRA, P_EPI;
    /** A_PACK=1: full 8-row blocks of A were packed per call to [block][k][8] at (AP_SLOT, AP_OFF), so a tile's 8 broadcasts are adjacent. */
    static int P_A_PACK, P_AP_SLOT, P_AP_OFF;
    static final int ARS = P_A_PACK == 1 ? 1 : P_A_RS, ACS = P_A_PACK == 1 ? MR : P_A_CS;
    /**
     * A packed A that differs per batch (Winograd's 16 transformed weight matrices) is one
     * [block][k][8] array per batch, these floats apart; an A shared by every batch (A_BS0 = A_BS1 = 0) is packed once.
     */
    static final int APBS = P_A_BS0 == 0 && P_A_BS1 == 0 ? 0 : P_M / MR * P_K * MR;
    /** B_PANEL=2: the conv input and its geometry; MCH chunks of row blocks per (image, column chunk). */
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_CIN, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL, P_OW, P_MCH;
    static final int TILES = (P_N + NR - 1) / NR, CHUNK_TILES = (TILES + P_NCH - 1) / P_NCH;
    private static final ThreadLocal<float[]> PANEL = new ThreadLocal<>();
    private static final ThreadLocal<int[]> MAP = new ThreadLocal<>();

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        if (P_B_PANEL == 2) {
            runConv(bufs, lo, hi);
            return;
        }
        if (P_B_PANEL == 3) {
            packOnly(bufs, lo, hi);
            return;
        }
        float[] a = bufs[P_A_SLOT], ap = P_A_PACK == 1 ? bufs[P_AP_SLOT] : a, b = bufs[P_B_SLOT], c = bufs[P_C_SLOT];
        float[] bias = P_BIAS_MODE == 0 ? null : bufs[P_BIAS_SLOT], e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] tile = ThreadScratch.of(SCRATCH, MR * NR);
        int tiles = (P_N + NR - 1) / NR;
        for (int t = lo; t < hi; t++) {
            // row blocks innermost: a thread sweeps all rows against one chunk of B while it sits in its L2
            int mb = t % P_MB, ch = t / P_MB % P_NCH, batch = t / P_MB / P_NCH;
            int j0 = tiles * ch / P_NCH, j1 = tiles * (ch + 1) / P_NCH;
            int m0 = mb * MR, rows = Math.min(MR, P_M - m0);
            for (int j = j0; j < j1; j++) {
                int n0 = j * NR;
                if (rows == MR) tile8(ap, b, c, bias, e, tile, batch, m0, n0, bBase(batch, n0));
                else for (int m = m0; m < m0 + rows; m++) tile1(a, b, c, bias, e, tile, batch, m, n0, bBase(batch, n0));
            }
        }
    }

    /** B_PANEL=2: a task is (image, chunk of row blocks, chunk of column tiles), column chunks innermost. */
    private static void runConv(float[][] bufs, int lo, int hi) {
        float[] a = bufs[P_A_SLOT], ap = P_A_PACK == 1 ? bufs[P_AP_SLOT] : a, x = bufs[P_X_SLOT], c = bufs[P_C_SLOT];
        float[] bias = P_BIAS_MODE == 0 ? null : bufs[P_BIAS_SLOT], e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] tile = ThreadScratch.of(SCRATCH, MR * NR), panel = ThreadScratch.of(PANEL, CHUNK_TILES * P_K * NR);
        int[] map = ThreadScratch.ints(MAP, NR);
        for (int t = lo; t < hi; t++) {
            int ch = t % P_NCH, mc = t / P_NCH % P_MCH, image = t / P_NCH / P_MCH;
            int j0 = TILES * ch / P_NCH, j1 = TILES * (ch + 1) / P_NCH, b0 = P_MB * mc / P_MCH, b1 = P_MB * (mc + 1) / P_MCH;
            for (int j = j0; j < j1; j++) packColumns(x, panel, map, image, j * NR, (j - j0) * P_K * NR);
            for (int mb = b0; mb < b1; mb++) {
                int m0 = mb * MR, rows = Math.min(MR, P_M - m0);
                for (int j = j0; j < j1; j++) {
                    if (rows == MR) tile8(ap, panel, c, bias, e, tile, image, m0, j * NR, (j - j0) * P_K * NR);
                    else for (int m = m0; m < m0 + rows; m++) tile1(a, panel, c, bias, e, tile, image, m, j * NR, (j - j0) * P_K * NR);
                }
            }
        }
    }

    /** B_PANEL=3: a task packs column tile (image, j) of the im2col matrix into C's panels ([image][tile][K][NR]), for a later GEMM with B_PANEL=1. */
    private static void packOnly(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], out = bufs[P_C_SLOT];
        int[] map = ThreadScratch.ints(MAP, NR);
        for (int t = lo; t < hi; t++) {
            int image = t / TILES, j = t % TILES;
            packColumns(x, out, map, image, j * NR, P_C_OFF + image * P_C_BS0 + j * P_K * NR);
        }
    }

    /**
     * Columns n0 .. n0+NR-1 of the image's im2col matrix into panel[at + k·NR + lane]. Lanes past
     * the last pixel repeat it (their results are never stored), so every read is in range.
     */
    private static void packColumns(float[] x, float[] panel, int[] map, int image, int n0, int at) {
        for (int i = 0; i < NR; i++) {
            int p = Math.min(n0 + i, P_N - 1), oy = p / P_OW, ox = p % P_OW;
            map[i] = (oy * P_SH - P_PT) * P_X_S2 + ox * P_SW - P_PL;
        }
        int xb = P_X_OFF + image * P_X_S0, valid = P_N - n0;
        // each half vector in runs of lanes that lie along one input row: a (masked) load and store
        // per k and run, where a gather with the map cost 6× a load (narrow rows cross in every half)
        for (int h = 0; h < NR; h += L)
            for (int a = h; a < h + L; ) {
                int b = a + 1;
                // lanes past the last pixel are never stored: they join any run
                while (b < h + L && (b >= valid || map[b] == map[a] + (b - a) * P_SW)) b++;
                // ... but are not read: past the image's end they could leave x
                int end = Math.min(b, Math.max(valid, a + 1));
                packRun(x, panel, map, xb, map[a] - (a - h) * P_SW, at + h, h, a - h, end - h);
                a = b;
            }
    }

    /** Lanes [lo, hi) of one half tile (half h of the map) for every k: lane j reads x[xb + tap + d + j·SW] (by the map at strides past 2). */
    private static void packRun(float[] x, float[] panel, int[] map, int xb, int d, int dst, int h, int lo, int hi) {
        // made here: a mask passed into a call C2 does not inline is boxed. And from non-negative offsets only:
        // indexInRange with a negative one left every kernel that makes masks boxing (the allocation test, 1 thread)
        VectorMask<Float> m = S.indexInRange(0, hi).andNot(S.indexInRange(0, lo));
        boolean whole = lo == 0 && hi == L;
        int k = 0;
        for (int ci = 0; ci < P_CIN; ci++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++, k++) {
                    int tap = ci * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW, src = xb + tap + d;
                    FloatVector v;
                    // lanes outside the run are not stored, so a whole load serves wherever it stays in x (a masked
                    // load whose vector leaves the array takes a slow path, and each new such site cost C2 recompiles)
                    if (P_SW == 1) v = whole || src >= 0 && src + L <= x.length ? FloatVector.fromArray(S, x, src) : FloatVector.fromArray(S, x, src, m);
                    else if (P_SW == 2 && Strided.fits(x, src)) v = Strided.evenLanes(x, src);
                    else v = FloatVector.fromArray(S, x, xb + tap, map, h, m);
                    if (whole) v.intoArray(panel, dst + k * NR);
                    else v.intoArray(panel, dst + k * NR, m);
                }
    }

    private static int bBase(int batch, int n0) {
        int bo = P_B_OFF + batch / P_BD1 * P_B_BS0 + batch % P_BD1 * P_B_BS1;   // panels per batch: Winograd's V; constant panels have zero batch strides
        return P_B_PANEL == 1 ? bo + n0 * P_K : bo + n0;
    }

    private static int bStride() { return P_B_PANEL != 0 ? NR : P_B_RS; }

    private static void tile8(float[] a, float[] b, float[] c, float[] bias, float[] e, float[] t, int batch, int m0, int n0, int bb) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        int ab = P_A_PACK == 1 ? P_AP_OFF + batch * APBS + m0 * P_K : P_A_OFF + batch / P_BD1 * P_A_BS0 + batch % P_BD1 * P_A_BS1 + m0 * P_A_RS;
        int bs = bStride();
        boolean full = n0 + NR <= P_N;
        VectorMask<Float> m0k = S.indexInRange(n0, P_N), m1k = S.indexInRange(n0 + L, P_N);
        for (int k = 0; k < P_K; k++) {
            int bo = bb + k * bs, ao = ab + k * ACS;
            FloatVector b0, b1;
            if (P_B_PANEL != 0 || full) {
                b0 = FloatVector.fromArray(S, b, bo);
                b1 = FloatVector.fromArray(S, b, bo + L);
            } else {
                b0 = FloatVector.fromArray(S, b, bo, m0k);
                b1 = FloatVector.fromArray(S, b, bo + L, m1k);
            }
            FloatVector x;
            x = FloatVector.broadcast(S, a[ao]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ao + ARS]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ao + 2 * ARS]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ao + 3 * ARS]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ao + 4 * ARS]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ao + 5 * ARS]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ao + 6 * ARS]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ao + 7 * ARS]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(t, 0); c01.intoArray(t, L); c10.intoArray(t, NR); c11.intoArray(t, NR + L);
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L); c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L);
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L); c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L);
        c60.intoArray(t, 6 * NR); c61.intoArray(t, 6 * NR + L); c70.intoArray(t, 7 * NR); c71.intoArray(t, 7 * NR + L);
        for (int r = 0; r < MR; r++) store(c, bias, e, t, r, batch, m0 + r, n0, full);
    }

    private static void tile1(float[] a, float[] b, float[] c, float[] bias, float[] e, float[] t, int batch, int m, int n0, int bb) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, d0 = c0, d1 = c0;
        int ao = P_A_OFF + batch / P_BD1 * P_A_BS0 + batch % P_BD1 * P_A_BS1 + m * P_A_RS, bs = bStride();
        boolean full = n0 + NR <= P_N;
        VectorMask<Float> m0k = S.indexInRange(n0, P_N), m1k = S.indexInRange(n0 + L, P_N);
        int k = 0;
        // two accumulator pairs so consecutive FMAs do not wait on each other
        for (; k + 1 < P_K; k += 2) {
            int bo = bb + k * bs;
            FloatVector x = FloatVector.broadcast(S, a[ao + k * P_A_CS]), y = FloatVector.broadcast(S, a[ao + (k + 1) * P_A_CS]);
            if (P_B_PANEL != 0 || full) {
                c0 = x.fma(FloatVector.fromArray(S, b, bo), c0);
                c1 = x.fma(FloatVector.fromArray(S, b, bo + L), c1);
                d0 = y.fma(FloatVector.fromArray(S, b, bo + bs), d0);
                d1 = y.fma(FloatVector.fromArray(S, b, bo + bs + L), d1);
            } else {
                c0 = x.fma(FloatVector.fromArray(S, b, bo, m0k), c0);
                c1 = x.fma(FloatVector.fromArray(S, b, bo + L, m1k), c1);
                d0 = y.fma(FloatVector.fromArray(S, b, bo + bs, m0k), d0);
                d1 = y.fma(FloatVector.fromArray(S, b, bo + bs + L, m1k), d1);
            }
        }
        for (; k < P_K; k++) {
            int bo = bb + k * bs;
            FloatVector x = FloatVector.broadcast(S, a[ao + k * P_A_CS]);
            if (P_B_PANEL != 0 || full) {
                c0 = x.fma(FloatVector.fromArray(S, b, bo), c0);
                c1 = x.fma(FloatVector.fromArray(S, b, bo + L), c1);
            } else {
                c0 = x.fma(FloatVector.fromArray(S, b, bo, m0k), c0);
                c1 = x.fma(FloatVector.fromArray(S, b, bo + L, m1k), c1);
            }
        }
        c0.add(d0).intoArray(t, 0);
        c1.add(d1).intoArray(t, L);
        store(c, bias, e, t, 0, batch, m, n0, full);
    }

    /**
     * Row r of the accumulator tile (parked in t) through bias and epilogue into C. Accumulators
     * go through memory rather than arguments, and the epilogue is written out rather than
     * called: a vector that crosses a call C2 does not inline is boxed (seen: ~70 KB per call of
     * the cnn model when the GEMM also serves its im2col convs).
     */
    private static void store(float[] c, float[] bias, float[] e, float[] t, int r, int batch, int m, int n0, boolean full) {
        VectorMask<Float> k0 = S.indexInRange(n0, P_N), k1 = S.indexInRange(n0 + L, P_N);   // inline: a mask returned from a call may be boxed
        FloatVector v0 = FloatVector.fromArray(S, t, r * NR), v1 = FloatVector.fromArray(S, t, r * NR + L);
        int co = P_C_OFF + batch / P_BD1 * P_C_BS0 + batch % P_BD1 * P_C_BS1 + m * P_C_RS + n0;
        int eo = P_E_OFF + batch / P_BD1 * P_E_BS0 + batch % P_BD1 * P_E_BS1 + m * P_E_RS + n0;
        if (P_BIAS_MODE == 1) {
            v0 = v0.add(bias[P_BIAS_OFF + m]);
            v1 = v1.add(bias[P_BIAS_OFF + m]);
        } else if (P_BIAS_MODE == 2) {
            v0 = v0.add(full ? FloatVector.fromArray(S, bias, P_BIAS_OFF + n0) : FloatVector.fromArray(S, bias, P_BIAS_OFF + n0, k0));
            v1 = v1.add(full ? FloatVector.fromArray(S, bias, P_BIAS_OFF + n0 + L) : FloatVector.fromArray(S, bias, P_BIAS_OFF + n0 + L, k1));
        }
        FloatVector e0 = null, e1 = null;
        if (P_EXTRA != 0) {
            e0 = full ? FloatVector.fromArray(S, e, eo) : FloatVector.fromArray(S, e, eo, k0);
            e1 = full ? FloatVector.fromArray(S, e, eo + L) : FloatVector.fromArray(S, e, eo + L, k1);
        }
        v0 = VecMath.epilogue(v0, e0, P_EPI);    // the epilogue's code, written inline by the specialiser
        v1 = VecMath.epilogue(v1, e1, P_EPI);
        if (P_C_W > 0) {
            // back into the tile row, then out segment by segment (a copy into the halo afterwards cost a whole extra pass)
            v0.intoArray(t, r * NR);
            v1.intoArray(t, r * NR + L);
            int plane = P_C_OFF + batch / P_BD1 * P_C_BS0 + batch % P_BD1 * P_C_BS1 + m * P_C_RS, end = Math.min(n0 + NR, P_N);
            for (int p = n0; p < end; ) {
                int row = p / P_C_W, ox = p - row * P_C_W, len = Math.min(end - p, P_C_W - ox), to = plane + row * P_C_S2 + ox;
                for (int j = 0; j < len; j += L) {
                    VectorMask<Float> k = S.indexInRange(j, len);
                    FloatVector.fromArray(S, t, r * NR + p - n0 + j, k).intoArray(c, to + j, k);
                }
                p += len;
            }
            return;
        }
        if (full) {
            v0.intoArray(c, co);
            v1.intoArray(c, co + L);
        } else {
            v0.intoArray(c, co, k0);
            v1.intoArray(c, co + L, k1);
        }
    }
}
