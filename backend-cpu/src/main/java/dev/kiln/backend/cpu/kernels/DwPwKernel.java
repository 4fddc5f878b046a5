package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused depthwise + pointwise convolution, ROWS output rows and a chunk of output channels per task: the depthwise results of
 * those rows for every channel go into a small scratch ([C][ROWS·OW] with the rows back to
 * back, cache resident) and the pointwise GEMM consumes them at once (8 output channels × 2
 * vectors per register tile) over the flattened ROWS·OW pixels, so narrow rows do not leave
 * the tile's last columns idle. The [N,C,OH,OW] intermediate never exists. The input carries a
 * halo covering the padding; the output may carry one too (stores go row segment by segment).
 *
 * <p>With P_EXPAND (FusedExpandDwPwConv) the depthwise input is itself computed: a 1×1 expansion
 * (CIN → C channels, bias, activation) of X's rows, streamed through a per-thread ring of IR
 * expanded rows ([C][IR][WP], zero columns for the padding), so the expanded tensor never exists
 * either. A task then covers STEPS·ROWS output rows; each step expands only the input rows it
 * has not expanded yet (an input row serves KH rows of taps) and reuses the rest from the ring.
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
    /** Output rows per task, row chunks per image (ceil(OH / ROWS)), and chunks of 8-channel output blocks (each recomputes its rows' depthwise). */
    static int P_ROWS, P_RT, P_OCH;
    static final int OBLOCKS = (P_O + MR - 1) / MR;
    static int P_MID_ACT, P_EXTRA, P_EPI;
    /** The expansion: on or off, input channels and plane, weights (raw [C][CIN], packed [C/8][CIN][8]), bias, activation; steps per task. */
    static int P_EXPAND, P_CIN, P_H, P_W, P_EW_SLOT, P_EWP_SLOT, P_EWB_SLOT, P_EXP_ACT, P_STEPS, P_PR;
    /** Output rows per task, and the ring: rows (all a step's taps read), padded width, floats per channel. */
    static final int BAND = P_ROWS * P_STEPS, IR = (P_ROWS - 1) * P_SH + (P_KH - 1) * P_DH + 1, WP = P_PL + P_W + P_PR, RCS = IR * WP;
    /** Scratch pitch per channel: ROWS·OW rounded up to whole pixel tiles. */
    static final int MP = (P_ROWS * P_OW + NR - 1) / NR * NR;
    /** The row's last group of up to four vectors (REM columns): TAIL_FULL whole vectors, then TAIL_PART lanes. */
    static final int REM = P_OW % (4 * L), TAIL_FULL = REM / L, TAIL_PART = REM % L;
    /** Output (and extra operand) rows directly follow each other: a task's pixels are one stretch of Y. */
    static final boolean FLAT = P_Y_S2 == P_OW && (P_EXTRA == 0 || P_E_S2 == P_OW);
    static final int[] IDX = indexMap(L), IDX_TAIL = indexMap(TAIL_PART);

    /** Lane i reads column i·SW; lanes from {@code active} on (past the row's end) read column 0, since a masked gather still range-checks them. */
    private static int[] indexMap(int active) {
        int[] m = new int[L];
        for (int i = 0; i < active; i++) m[i] = i * P_SW;
        return m;
    }

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>(), TILE = new ThreadLocal<>(), RING = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT], dw = bufs[P_DW_SLOT], dwb = bufs[P_DWB_SLOT];
        float[] pw = bufs[P_PW_SLOT], pwp = bufs[P_PWP_SLOT], pwb = bufs[P_PWB_SLOT], e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] mid = ThreadScratch.of(SCRATCH, P_C * MP), tile = ThreadScratch.of(TILE, MR * NR);
        // the ring's padding columns are never written: zero since the array was made
        // (2L floats of slack: a stride-2 read of the last channel's last row takes two whole vectors)
        float[] ring = P_EXPAND == 0 ? null : ThreadScratch.of(RING, P_C * RCS + 2 * L);
        for (int t = lo; t < hi; t++) {
            int oc = t % P_OCH, rt = t / P_OCH, n = rt / P_RT, band0 = rt % P_RT * BAND, band1 = Math.min(P_OH, band0 + BAND);
            int o0 = OBLOCKS * oc / P_OCH * MR, o1 = Math.min(P_O, OBLOCKS * (oc + 1) / P_OCH * MR);
            int expanded = -P_PT;   // input rows below this one are in the ring (none yet: a task starts it afresh)
            for (int oy0 = band0; oy0 < band1; oy0 += P_ROWS) {
                int rows = Math.min(P_ROWS, band1 - oy0), pix = rows * P_OW;
                if (P_EXPAND == 1) {
                    int need = oy0 * P_SH - P_PT, last = need + (rows - 1) * P_SH + (P_KH - 1) * P_DH;
                    for (int iy = Math.max(need, expanded); iy <= last; iy++) expandRow(bufs, x, ring, n, iy);
                    expanded = last + 1;
                    depthwise(ring, dw, dwb, mid, n, oy0, rows);
                } else depthwise(x, dw, dwb, mid, n, oy0, rows);
                for (int p0 = 0; p0 < pix; p0 += NR) {
                    int o = o0;
                    for (; o + MR <= o1; o += MR) pointwise8(mid, pwp, pwb, y, e, tile, n, o, oy0, p0, pix);
                    for (; o < o1; o++) pointwise1(mid, pw, pwb, y, e, tile, n, o, oy0, p0, pix);
                }
            }
        }
    }

    /** Where the depthwise reads input row iy, column −PL, of channel c: in X (with its halo), or in the ring. */
    private static int rowBase(int n, int c, int iy) {
        if (P_EXPAND == 1) return c * RCS + (iy + P_PT) % IR * WP;
        return P_X_OFF + n * P_X_S0 + c * P_X_S1 + iy * P_X_S2 - P_PL;
    }

    /**
     * Input row iy expanded into its ring row, every channel: zeros outside the image (the
     * depthwise's padding), else act(EW·X[:, iy, :] + bias) in 8-channel × 2-vector register tiles.
     */
    private static void expandRow(float[][] bufs, float[] x, float[] ring, int n, int iy) {
        int rb = (iy + P_PT) % IR * WP;
        if (iy < 0 || iy >= P_H) {
            for (int c = 0; c < P_C; c++) java.util.Arrays.fill(ring, c * RCS + rb + P_PL, c * RCS + rb + P_PL + P_W, 0f);
            return;
        }
        float[] ewp = bufs[P_EWP_SLOT], ew = bufs[P_EW_SLOT], ewb = bufs[P_EWB_SLOT];
        int xb = P_X_OFF + n * P_X_S0 + iy * P_X_S2;
        int c = 0;
        for (; c + MR <= P_C; c += MR) {
            int px = 0;
            for (; px + NR <= P_W; px += NR) expand8(x, ewp, ewb, ring, xb + px, c, c * RCS + rb + P_PL + px);
            for (; px < P_W; px += L) expand8Vec(x, ewp, ewb, ring, xb + px, c, c * RCS + rb + P_PL + px, Math.min(L, P_W - px));
        }
        for (; c < P_C; c++)
            for (int px = 0; px < P_W; px += NR) expand1(x, ew, ewb, ring, xb + px, c, c * RCS + rb + P_PL + px, Math.min(NR, P_W - px));
    }

    /** Channels c .. c+8 of NR whole pixels of an input row (X at xo) into the ring (channel c's at ro). */
    private static void expand8(float[] x, float[] ewp, float[] ewb, float[] ring, int xo, int c, int ro) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        int wb = c * P_CIN;   // block c/8 of the packed weights starts at (c/8)·CIN·8
        for (int k = 0; k < P_CIN; k++) {
            FloatVector b0 = FloatVector.fromArray(S, x, xo + k * P_X_S1), b1 = FloatVector.fromArray(S, x, xo + k * P_X_S1 + L);
            int wo = wb + k * MR;
            FloatVector a;
            a = FloatVector.broadcast(S, ewp[wo]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ewp[wo + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ewp[wo + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ewp[wo + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ewp[wo + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ewp[wo + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ewp[wo + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ewp[wo + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        // written out: a vector handed to a helper C2 does not inline is boxed
        float b = ewb[c];
        VecMath.apply(c00.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c01.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 1];
        VecMath.apply(c10.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c11.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 2];
        VecMath.apply(c20.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c21.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 3];
        VecMath.apply(c30.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c31.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 4];
        VecMath.apply(c40.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c41.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 5];
        VecMath.apply(c50.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c51.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 6];
        VecMath.apply(c60.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c61.add(b), P_EXP_ACT).intoArray(ring, ro + L);
        ro += RCS; b = ewb[c + 7];
        VecMath.apply(c70.add(b), P_EXP_ACT).intoArray(ring, ro); VecMath.apply(c71.add(b), P_EXP_ACT).intoArray(ring, ro + L);
    }

    /**
     * Channels c .. c+8 of len ≤ L pixels (a row's last ones): one vector wide, masked, so nothing
     * past the row is read from X's end or written over the ring's zero padding columns (half
     * expand8's accumulators, which C1 can still compile: a tier-3 compile that fails leaves a
     * method at tier 2, without intrinsics, for good).
     */
    private static void expand8Vec(float[] x, float[] ewp, float[] ewb, float[] ring, int xo, int c, int ro, int len) {
        VectorMask<Float> m = S.indexInRange(0, len);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        int wb = c * P_CIN;
        for (int k = 0; k < P_CIN; k++) {
            FloatVector b = FloatVector.fromArray(S, x, xo + k * P_X_S1, m);
            int wo = wb + k * MR;
            c0 = FloatVector.broadcast(S, ewp[wo]).fma(b, c0);
            c1 = FloatVector.broadcast(S, ewp[wo + 1]).fma(b, c1);
            c2 = FloatVector.broadcast(S, ewp[wo + 2]).fma(b, c2);
            c3 = FloatVector.broadcast(S, ewp[wo + 3]).fma(b, c3);
            c4 = FloatVector.broadcast(S, ewp[wo + 4]).fma(b, c4);
            c5 = FloatVector.broadcast(S, ewp[wo + 5]).fma(b, c5);
            c6 = FloatVector.broadcast(S, ewp[wo + 6]).fma(b, c6);
            c7 = FloatVector.broadcast(S, ewp[wo + 7]).fma(b, c7);
        }
        VecMath.apply(c0.add(ewb[c]), P_EXP_ACT).intoArray(ring, ro, m);
        VecMath.apply(c1.add(ewb[c + 1]), P_EXP_ACT).intoArray(ring, ro + RCS, m);
        VecMath.apply(c2.add(ewb[c + 2]), P_EXP_ACT).intoArray(ring, ro + 2 * RCS, m);
        VecMath.apply(c3.add(ewb[c + 3]), P_EXP_ACT).intoArray(ring, ro + 3 * RCS, m);
        VecMath.apply(c4.add(ewb[c + 4]), P_EXP_ACT).intoArray(ring, ro + 4 * RCS, m);
        VecMath.apply(c5.add(ewb[c + 5]), P_EXP_ACT).intoArray(ring, ro + 5 * RCS, m);
        VecMath.apply(c6.add(ewb[c + 6]), P_EXP_ACT).intoArray(ring, ro + 6 * RCS, m);
        VecMath.apply(c7.add(ewb[c + 7]), P_EXP_ACT).intoArray(ring, ro + 7 * RCS, m);
    }

    /** One channel c (past the last whole block of 8) of len ≤ NR pixels, masked where len falls short. */
    private static void expand1(float[] x, float[] ew, float[] ewb, float[] ring, int xo, int c, int ro, int len) {
        VectorMask<Float> m0 = S.indexInRange(0, len), m1 = S.indexInRange(L, len);
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        for (int k = 0; k < P_CIN; k++) {
            FloatVector a = FloatVector.broadcast(S, ew[c * P_CIN + k]);
            c0 = a.fma(FloatVector.fromArray(S, x, xo + k * P_X_S1, m0), c0);
            c1 = a.fma(FloatVector.fromArray(S, x, xo + k * P_X_S1 + L, m1), c1);
        }
        VecMath.apply(c0.add(ewb[c]), P_EXP_ACT).intoArray(ring, ro, m0);
        VecMath.apply(c1.add(ewb[c]), P_EXP_ACT).intoArray(ring, ro + L, m1);
    }

    /**
     * Output rows oy0 .. oy0+rows of every channel into mid, channel by channel so the input is
     * read one plane at a time (a stream the prefetcher follows); always four vectors in flight,
     * so the taps form independent FMA chains.
     */
    private static void depthwise(float[] x, float[] dw, float[] dwb, float[] mid, int n, int oy0, int rows) {
        VectorMask<Float> m = S.indexInRange(0, TAIL_PART);
        for (int i = 0; i < P_C * rows; i++) {
            int c = i / rows, r = i - c * rows;
            int iy0 = (oy0 + r) * P_SH - P_PT;
            int wb = c * P_KH * P_KW, mo = c * MP + r * P_OW;
            float bias = dwb[c];
            int ox0 = 0;
            for (; ox0 + 4 * L <= P_OW; ox0 += 4 * L) {
                FloatVector a0 = FloatVector.broadcast(S, bias), a1 = a0, a2 = a0, a3 = a0;
                for (int ky = 0; ky < P_KH; ky++)
                    for (int kx = 0; kx < P_KW; kx++) {
                        int at = rowBase(n, c, iy0 + ky * P_DH) + kx * P_DW + ox0 * P_SW;
                        FloatVector w = FloatVector.broadcast(S, dw[wb + ky * P_KW + kx]);
                        a0 = load(x, at).fma(w, a0);
                        a1 = load(x, at + L * P_SW).fma(w, a1);
                        a2 = load(x, at + 2 * L * P_SW).fma(w, a2);
                        a3 = load(x, at + 3 * L * P_SW).fma(w, a3);
                    }
                VecMath.apply(a0, P_MID_ACT).intoArray(mid, mo + ox0);
                VecMath.apply(a1, P_MID_ACT).intoArray(mid, mo + ox0 + L);
                VecMath.apply(a2, P_MID_ACT).intoArray(mid, mo + ox0 + 2 * L);
                VecMath.apply(a3, P_MID_ACT).intoArray(mid, mo + ox0 + 3 * L);
            }
            if (REM == 0) continue;
            // the last REM columns: vectors past REM are never loaded nor stored (the conditions are constants)
            FloatVector a0 = FloatVector.broadcast(S, bias), a1 = a0, a2 = a0, a3 = a0;
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) {
                    int at = rowBase(n, c, iy0 + ky * P_DH) + kx * P_DW + ox0 * P_SW;
                    FloatVector w = FloatVector.broadcast(S, dw[wb + ky * P_KW + kx]);
                    a0 = (TAIL_FULL > 0 ? load(x, at) : loadTail(x, at, m)).fma(w, a0);
                    if (REM > L) a1 = (TAIL_FULL > 1 ? load(x, at + L * P_SW) : loadTail(x, at + L * P_SW, m)).fma(w, a1);
                    if (REM > 2 * L) a2 = (TAIL_FULL > 2 ? load(x, at + 2 * L * P_SW) : loadTail(x, at + 2 * L * P_SW, m)).fma(w, a2);
                    if (REM > 3 * L) a3 = (TAIL_FULL > 3 ? load(x, at + 3 * L * P_SW) : loadTail(x, at + 3 * L * P_SW, m)).fma(w, a3);
                }
            int to = mo + ox0;
            a0 = VecMath.apply(a0, P_MID_ACT);
            if (TAIL_FULL > 0) a0.intoArray(mid, to); else a0.intoArray(mid, to, m);
            if (REM > L) {
                a1 = VecMath.apply(a1, P_MID_ACT);
                if (TAIL_FULL > 1) a1.intoArray(mid, to + L); else a1.intoArray(mid, to + L, m);
            }
            if (REM > 2 * L) {
                a2 = VecMath.apply(a2, P_MID_ACT);
                if (TAIL_FULL > 2) a2.intoArray(mid, to + 2 * L); else a2.intoArray(mid, to + 2 * L, m);
            }
            if (REM > 3 * L) {
                a3 = VecMath.apply(a3, P_MID_ACT);
                if (TAIL_FULL > 3) a3.intoArray(mid, to + 3 * L); else a3.intoArray(mid, to + 3 * L, m);
            }
        }
    }

    private static FloatVector load(float[] x, int at) {
        if (P_SW == 1) return FloatVector.fromArray(S, x, at);
        if (P_EXPAND == 1 && P_SW == 2) return Strided.evenLanes(x, at);   // the ring's slack: always fits
        return P_SW == 2 && Strided.fits(x, at) ? Strided.evenLanes(x, at) : FloatVector.fromArray(S, x, at, IDX, 0);
    }

    private static FloatVector loadTail(float[] x, int at, VectorMask<Float> m) {
        if (P_SW == 1) return FloatVector.fromArray(S, x, at, m);
        if (P_EXPAND == 1 && P_SW == 2) return Strided.evenLanes(x, at);
        // lanes past the row's end are never stored: reading them unmasked is fine where it stays in x
        return P_SW == 2 && Strided.fits(x, at) ? Strided.evenLanes(x, at) : FloatVector.fromArray(S, x, at, IDX_TAIL, 0, m);
    }

    private static void pointwise8(float[] mid, float[] pwp, float[] pwb, float[] y, float[] e, float[] tt, int n, int o0, int oy0, int p0, int pix) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        int wb = o0 * P_C;   // block o0/8 of the packed weights starts at (o0/8)·C·8
        for (int c = 0; c < P_C; c++) {
            FloatVector b0 = FloatVector.fromArray(S, mid, c * MP + p0), b1 = FloatVector.fromArray(S, mid, c * MP + p0 + L);
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
        int row0 = p0 / P_OW, ox0 = p0 - row0 * P_OW;
        if (p0 + NR <= pix && (FLAT || ox0 + NR <= P_OW)) {
            // the common case, the tile's pixels one whole stretch of each output row: stored from the registers
            // (parking the tile and reading it back cost a store and a load per accumulator; written out, since a
            // vector handed to a helper C2 does not inline is boxed)
            int yo = P_Y_OFF + n * P_Y_S0 + o0 * P_Y_S1 + (oy0 + row0) * P_Y_S2 + ox0;
            int eo = P_E_OFF + n * P_E_S0 + o0 * P_E_S1 + (oy0 + row0) * P_E_S2 + ox0;
            float b = pwb[o0];
            VecMath.epilogue(c00.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c01.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 1];
            VecMath.epilogue(c10.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c11.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 2];
            VecMath.epilogue(c20.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c21.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 3];
            VecMath.epilogue(c30.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c31.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 4];
            VecMath.epilogue(c40.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c41.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 5];
            VecMath.epilogue(c50.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c51.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 6];
            VecMath.epilogue(c60.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c61.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            yo += P_Y_S1; eo += P_E_S1; b = pwb[o0 + 7];
            VecMath.epilogue(c70.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI).intoArray(y, yo);
            VecMath.epilogue(c71.add(b), P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI).intoArray(y, yo + L);
            return;
        }
        c00.intoArray(tt, 0); c01.intoArray(tt, L); c10.intoArray(tt, NR); c11.intoArray(tt, NR + L);
        c20.intoArray(tt, 2 * NR); c21.intoArray(tt, 2 * NR + L); c30.intoArray(tt, 3 * NR); c31.intoArray(tt, 3 * NR + L);
        c40.intoArray(tt, 4 * NR); c41.intoArray(tt, 4 * NR + L); c50.intoArray(tt, 5 * NR); c51.intoArray(tt, 5 * NR + L);
        c60.intoArray(tt, 6 * NR); c61.intoArray(tt, 6 * NR + L); c70.intoArray(tt, 7 * NR); c71.intoArray(tt, 7 * NR + L);
        for (int r = 0; r < MR; r++) store(pwb, y, e, tt, r, n, o0 + r, oy0, p0, pix);
    }

    private static void pointwise1(float[] mid, float[] pw, float[] pwb, float[] y, float[] e, float[] tt, int n, int o, int oy0, int p0, int pix) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        for (int c = 0; c < P_C; c++) {
            FloatVector a = FloatVector.broadcast(S, pw[o * P_C + c]);
            c0 = a.fma(FloatVector.fromArray(S, mid, c * MP + p0), c0);
            c1 = a.fma(FloatVector.fromArray(S, mid, c * MP + p0 + L), c1);
        }
        c0.intoArray(tt, 0);
        c1.intoArray(tt, L);
        store(pwb, y, e, tt, 0, n, o, oy0, p0, pix);
    }

    /**
     * Row r of the parked accumulator tile (task pixels p0 .. p0+NR, those below pix) through bias
     * and epilogue into Y, one stretch per output row it touches, or one stretch when Y's rows are
     * back to back. Vectors never cross a call as arguments.
     */
    private static void store(float[] pwb, float[] y, float[] e, float[] tt, int r, int n, int o, int oy0, int p0, int pix) {
        float b = pwb[o];
        int row0 = p0 / P_OW, ox0 = p0 - row0 * P_OW;
        if (p0 + NR <= pix && (FLAT || ox0 + NR <= P_OW)) {
            // the common case: the tile's pixels are one whole stretch of Y
            int yo = P_Y_OFF + n * P_Y_S0 + o * P_Y_S1 + (oy0 + row0) * P_Y_S2 + ox0;
            int eo = P_E_OFF + n * P_E_S0 + o * P_E_S1 + (oy0 + row0) * P_E_S2 + ox0;
            FloatVector v0 = FloatVector.fromArray(S, tt, r * NR).add(b), v1 = FloatVector.fromArray(S, tt, r * NR + L).add(b);
            v0 = VecMath.epilogue(v0, P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo), P_EPI);
            v1 = VecMath.epilogue(v1, P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L), P_EPI);
            v0.intoArray(y, yo);
            v1.intoArray(y, yo + L);
            return;
        }
        int end = Math.min(p0 + NR, pix);
        for (int p = p0; p < end; ) {
            int row = p / P_OW, ox = p - row * P_OW, len = FLAT ? end - p : Math.min(end - p, P_OW - ox);
            int yo = P_Y_OFF + n * P_Y_S0 + o * P_Y_S1 + (oy0 + row) * P_Y_S2 + ox;
            int eo = P_E_OFF + n * P_E_S0 + o * P_E_S1 + (oy0 + row) * P_E_S2 + ox;
            int to = r * NR + p - p0;
            for (int j = 0; j < len; j += L) {
                VectorMask<Float> k = S.indexInRange(j, len);
                boolean full = j + L <= len;
                FloatVector v = (full ? FloatVector.fromArray(S, tt, to + j) : FloatVector.fromArray(S, tt, to + j, k)).add(b);
                FloatVector ev = P_EXTRA == 0 ? null : full ? FloatVector.fromArray(S, e, eo + j) : FloatVector.fromArray(S, e, eo + j, k);
                v = VecMath.epilogue(v, ev, P_EPI);
                if (full) v.intoArray(y, yo + j);
                else v.intoArray(y, yo + j, k);
            }
            p += len;
        }
    }
}
