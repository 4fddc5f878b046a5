package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * A dense conv with a small output plane (ResNet's 14² and 7²) as a GEMM vectorised along the
 * output channels instead of the pixels: Cᵀ[pixel][o] = im2colᵀ · Wᵀ. GemmKernel tiles the
 * flattened plane in NR = 2 vectors, so 49 pixels take 2 tiles of 32 lanes (23 % of them idle)
 * and 196 take 7 (12.5 %); here a register tile is MR pixels (7 or 8, whichever leaves fewer
 * rows idle: 49 = 7·7, 196 = 7·28) × NR channels, and channel counts are multiples of NR.
 *
 * <p>A = the im2col matrix of the input X, never packed: pixel p's column starts at its window's
 * corner in X (whose halo holds the padding), and row k = (channel, ky, kx) is one offset from
 * there, the same for every pixel (a table made per kernel). So a tile reads X in place (166 KiB
 * for a 512-channel 7² input, inside L2) where a packing step wrote 1.2 MiB of columns per call
 * and took 5-9 % of the conv's time. B = the weights as panels [O/NR][K][NR], packed at compile
 * time. A task is (channel tile, image), images innermost: one thread streams a weight panel once
 * for all its images, and each weight byte is read once per call (layer4's 3×3 convs hold 9.4 MB
 * of weights each, which do not stay in any cache from one call to the next).
 *
 * <p>K is blocked by KC: for each block, every row block of pixels sweeps the block's KC×NR
 * sub-panel of B (it stays in L1 across the row blocks) and adds into the task's accumulator
 * tile T [rows][NR]. The finished T is transposed to U [NR][rows] and stored channel by channel,
 * vectorised along the pixels, through bias and epilogue into C (whose planes may sit inside a
 * halo: rows of C_W pixels C_S2 floats apart). E, the epilogue's extra operand, has flat planes.
 *
 * <p>With a pool in the epilogue (POOL 1 max, 2 average) a task is also a band of BROWS pooled
 * rows: it computes only the conv rows their windows cover (overlapping windows recompute a row
 * at band edges), and {@link #storePooled} pools in T's own layout, where a pixel is two vectors
 * of channels: a window is a max (or sum) of whole vectors, no lane shuffles. Only the pooled
 * tile is transposed (a quarter of the moves at 2×2), and the unpooled tensor never leaves the
 * thread's scratch.
 */
public final class ChannelGemmKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    /** The conv input X (with a halo covering the padding) and its geometry. */
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_CIN, P_KH, P_KW, P_SH, P_SW, P_DH, P_DW, P_PT, P_PL, P_OW;
    static int P_B_SLOT;
    static int P_C_SLOT, P_C_OFF, P_C_RS, P_C_BS0, P_C_W, P_C_S2;
    static int P_E_SLOT, P_E_OFF, P_E_RS, P_E_BS0, P_EXTRA, P_EPI, P_BIAS_SLOT, P_BIAS_OFF;
    /** O output channels, N pixels per image, K = C·KH·KW; MR pixel rows per register tile (7 or 8); KC the K block. */
    static int P_O, P_N, P_K, P_MR, P_KC, P_IMAGES;
    /**
     * The pool (0 none, 1 max, 2 average) over the conv's CH×OW plane: window, stride, padding,
     * count_include_pad; PH×PW pooled outputs, BROWS pooled rows per band, BANDS bands per plane,
     * TROWS the most pixel rows a band computes (a multiple of MR). Without a pool: one band of all rows.
     */
    static int P_POOL, P_QKH, P_QKW, P_QSH, P_QSW, P_QPT, P_QPL, P_QPB, P_QPR, P_QCOUNT, P_CH, P_PH, P_PW, P_BROWS, P_BANDS, P_TROWS;
    static final int ROWS = P_TROWS;
    static final float NEUTRAL = P_POOL == 1 ? Float.NEGATIVE_INFINITY : 0f;
    /** C's plane as CH rows of CW pixels, CS2 floats apart: one row of N when it has no halo. */
    static final int CW = P_C_W > 0 ? P_C_W : P_N, CH = P_N / CW, CS2 = P_C_W > 0 ? P_C_S2 : P_N;
    /** T then U, plus a vector so a masked load at U's end stays inside the array (one leaving it takes a slow path). */
    static final int SCRATCH_FLOATS = 2 * ROWS * NR + L;
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();
    /** Row k's offset in X from a window's corner: read, never written, after class initialisation. */
    private static final int[] TAP = taps();

    private static int[] taps() {
        int[] t = new int[P_K];
        int k = 0;
        for (int ci = 0; ci < P_CIN; ci++)
            for (int ky = 0; ky < P_KH; ky++)
                for (int kx = 0; kx < P_KW; kx++) t[k++] = ci * P_X_S1 + ky * P_DH * P_X_S2 + kx * P_DW;
        return t;
    }

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] a = bufs[P_X_SLOT], b = bufs[P_B_SLOT], c = bufs[P_C_SLOT], bias = bufs[P_BIAS_SLOT], e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] t = ThreadScratch.of(SCRATCH, SCRATCH_FLOATS);
        for (int task = lo; task < hi; task++) {
            int band = task % P_BANDS, rest = task / P_BANDS;
            int image = rest % P_IMAGES, jt = rest / P_IMAGES, bb = jt * P_K * NR, ab = P_X_OFF + image * P_X_S0;
            // the conv rows [r0, r1) this band's pooled rows [py0, py1) read (all rows without a pool)
            int py0 = band * P_BROWS, py1 = Math.min(P_PH, py0 + P_BROWS), r0 = 0, r1 = P_CH;
            if (P_POOL != 0) {
                r0 = Math.max(0, py0 * P_QSH - P_QPT);
                r1 = Math.min(P_CH, (py1 - 1) * P_QSH - P_QPT + P_QKH);
            }
            int first = r0 * P_OW, last = r1 * P_OW;
            for (int k0 = 0; k0 < P_K; k0 += P_KC) {
                int k1 = Math.min(P_K, k0 + P_KC);
                for (int p0 = first; p0 < last; p0 += P_MR) tile(a, b, t, TAP, ab, bb, p0, (p0 - first) * NR, k0, k1);
            }
            if (P_POOL == 0) store(c, bias, e, t, image, jt);
            else storePooled(c, bias, t, image, jt, r0, r1, py0, py1);
        }
    }

    /** Where pixel p's window starts in the image's X; rows past the last pixel read its window again (their results are never stored). */
    private static int rowBase(int ab, int p) {
        int q = Math.min(p, P_N - 1), oy = q / P_OW, ox = q - oy * P_OW;
        return ab + (oy * P_SH - P_PT) * P_X_S2 + ox * P_SW - P_PL;
    }

    /** Pixel rows p0 .. p0+MR-1 of the plane, T's rows from float to on, += A[rows, k0..k1) · B[k0..k1, tile]; the first K block starts from zero. */
    private static void tile(float[] a, float[] b, float[] t, int[] tap, int ab, int bb, int p0, int to, int k0, int k1) {
        int a0 = rowBase(ab, p0), a1 = rowBase(ab, p0 + 1), a2 = rowBase(ab, p0 + 2), a3 = rowBase(ab, p0 + 3);
        int a4 = rowBase(ab, p0 + 4), a5 = rowBase(ab, p0 + 5), a6 = rowBase(ab, p0 + 6), a7 = P_MR == 8 ? rowBase(ab, p0 + 7) : a6;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (k0 == 0) {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        } else {
            c00 = FloatVector.fromArray(S, t, to); c01 = FloatVector.fromArray(S, t, to + L);
            c10 = FloatVector.fromArray(S, t, to + NR); c11 = FloatVector.fromArray(S, t, to + NR + L);
            c20 = FloatVector.fromArray(S, t, to + 2 * NR); c21 = FloatVector.fromArray(S, t, to + 2 * NR + L);
            c30 = FloatVector.fromArray(S, t, to + 3 * NR); c31 = FloatVector.fromArray(S, t, to + 3 * NR + L);
            c40 = FloatVector.fromArray(S, t, to + 4 * NR); c41 = FloatVector.fromArray(S, t, to + 4 * NR + L);
            c50 = FloatVector.fromArray(S, t, to + 5 * NR); c51 = FloatVector.fromArray(S, t, to + 5 * NR + L);
            c60 = FloatVector.fromArray(S, t, to + 6 * NR); c61 = FloatVector.fromArray(S, t, to + 6 * NR + L);
            if (P_MR == 8) {
                c70 = FloatVector.fromArray(S, t, to + 7 * NR); c71 = FloatVector.fromArray(S, t, to + 7 * NR + L);
            } else {
                c70 = c00; c71 = c01;   // unused: no eighth row
            }
        }
        for (int k = k0; k < k1; k++) {
            int bo = bb + k * NR, ko = tap[k];
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L), x;
            x = FloatVector.broadcast(S, a[a0 + ko]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + ko]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + ko]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + ko]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + ko]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + ko]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[a6 + ko]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            if (P_MR == 8) {
                x = FloatVector.broadcast(S, a[a7 + ko]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
            }
        }
        c00.intoArray(t, to); c01.intoArray(t, to + L); c10.intoArray(t, to + NR); c11.intoArray(t, to + NR + L);
        c20.intoArray(t, to + 2 * NR); c21.intoArray(t, to + 2 * NR + L); c30.intoArray(t, to + 3 * NR); c31.intoArray(t, to + 3 * NR + L);
        c40.intoArray(t, to + 4 * NR); c41.intoArray(t, to + 4 * NR + L); c50.intoArray(t, to + 5 * NR); c51.intoArray(t, to + 5 * NR + L);
        c60.intoArray(t, to + 6 * NR); c61.intoArray(t, to + 6 * NR + L);
        if (P_MR == 8) {
            c70.intoArray(t, to + 7 * NR); c71.intoArray(t, to + 7 * NR + L);
        }
    }

    /**
     * The finished tile of channels jt·NR.. of one image into C: T transposed into U (scalar: N·NR
     * moves against the tile's N·NR·K multiply-adds), then each channel's pixels as vectors
     * through bias and the epilogue, written out where they are used (vectors never cross a call).
     */
    private static void store(float[] c, float[] bias, float[] e, float[] t, int image, int jt) {
        int o0 = jt * NR, chans = Math.min(NR, P_O - o0), u = ROWS * NR;
        for (int p = 0; p < P_N; p++)
            for (int l = 0; l < chans; l++) t[u + l * ROWS + p] = t[p * NR + l];
        for (int l = 0; l < chans; l++) {
            int o = o0 + l, plane = P_C_OFF + image * P_C_BS0 + o * P_C_RS, eo = P_E_OFF + image * P_E_BS0 + o * P_E_RS;
            float bv = bias[P_BIAS_OFF + o];
            for (int y = 0; y < CH; y++)
                for (int x = 0; x < CW; x += L) {
                    VectorMask<Float> m = S.indexInRange(x, CW);
                    int p = y * CW + x;
                    FloatVector v = FloatVector.fromArray(S, t, u + l * ROWS + p, m).add(bv), ev = null;
                    if (P_EXTRA != 0) ev = FloatVector.fromArray(S, e, eo + p, m);
                    v = VecMath.epilogue(v, ev, P_EPI);    // the epilogue's code, written inline by the specialiser
                    v.intoArray(c, plane + y * CS2 + x, m);
                }
        }
    }

    /**
     * The finished band of channels jt·NR.. of one image, conv rows [r0, r1), pooled into C's rows
     * [py0, py1). Each pooled pixel reduces its window's in-plane pixels, each T row (two channel
     * vectors) biased and through the epilogue as it is read (overlapping windows redo a few),
     * into P (U's space, [pooled pixel][NR]); then P is transposed into C channel by channel.
     * An average divides by the window's counted pixels, as the pool op counts them.
     */
    private static void storePooled(float[] c, float[] bias, float[] t, int image, int jt, int r0, int r1, int py0, int py1) {
        int o0 = jt * NR, chans = Math.min(NR, P_O - o0), u = ROWS * NR;
        FloatVector bv0 = FloatVector.fromArray(S, bias, P_BIAS_OFF + o0, S.indexInRange(0, chans));
        FloatVector bv1 = FloatVector.fromArray(S, bias, P_BIAS_OFF + o0 + L, S.indexInRange(L, chans));
        for (int py = py0; py < py1; py++) {
            int y0 = py * P_QSH - P_QPT, ylo = Math.max(0, y0), yhi = Math.min(P_CH, y0 + P_QKH);
            for (int px = 0; px < P_PW; px++) {
                int x0 = px * P_QSW - P_QPL, xlo = Math.max(0, x0), xhi = Math.min(P_OW, x0 + P_QKW);
                FloatVector acc0 = FloatVector.broadcast(S, NEUTRAL), acc1 = acc0;
                for (int y = ylo; y < yhi; y++)
                    for (int x = xlo; x < xhi; x++) {
                        int at = ((y - r0) * P_OW + x) * NR;
                        FloatVector v0 = FloatVector.fromArray(S, t, at).add(bv0), v1 = FloatVector.fromArray(S, t, at + L).add(bv1);
                        v0 = VecMath.epilogue(v0, null, P_EPI);    // the epilogue's code (without its pool), written inline by the specialiser
                        v1 = VecMath.epilogue(v1, null, P_EPI);
                        if (P_POOL == 1) {
                            acc0 = acc0.max(v0);
                            acc1 = acc1.max(v1);
                        } else {
                            acc0 = acc0.add(v0);
                            acc1 = acc1.add(v1);
                        }
                    }
                if (P_POOL == 2) {
                    float count = P_QCOUNT == 1 ? (Math.min(P_CH + P_QPB, y0 + P_QKH) - y0) * (Math.min(P_OW + P_QPR, x0 + P_QKW) - x0)
                            : (yhi - ylo) * (xhi - xlo);
                    acc0 = acc0.div(count);
                    acc1 = acc1.div(count);
                }
                int to = u + ((py - py0) * P_PW + px) * NR;
                acc0.intoArray(t, to);
                acc1.intoArray(t, to + L);
            }
        }
        for (int l = 0; l < chans; l++) {
            int plane = P_C_OFF + image * P_C_BS0 + (o0 + l) * P_C_RS;
            for (int py = py0; py < py1; py++) {
                int from = u + (py - py0) * P_PW * NR + l, row = plane + py * CS2;
                for (int px = 0; px < P_PW; px++) c[row + px] = t[from + px * NR];
            }
        }
    }
}
