package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming ("flash") attention for one batch and a block of 8 query rows per task:
 * scores for a tile of KT = 4 vectors of keys come from two 8×2-vector register tiles over the
 * head dimension, the online softmax rescales the running output and sums, and P·V accumulates
 * into an 8×E scratch. The key tile is twice the register tile so that the per-row costs of
 * the online softmax (a max and a sum reduction, a scalar exp, the rescale) are paid once per
 * 64 keys rather than per 32. No M×N matrix is ever stored: extra memory is O(E + tile) per task.
 * K is read channel-major (Kᵀ, unit stride along keys) and V row-major (unit stride along E);
 * the lowering transposes an operand stored the other way once per call.
 */
public final class AttentionKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L, KT = 2 * NR, MR = 8;
    static int P_H;
    static int P_Q_SLOT, P_Q_OFF, P_Q_SB, P_Q_SH, P_Q_SI, P_Q_SD;
    static int P_K_SLOT, P_K_OFF, P_K_SB, P_K_SH, P_K_SD;
    static int P_V_SLOT, P_V_OFF, P_V_SB, P_V_SH, P_V_SJ;
    static int P_MASK_SLOT, P_MASK_OFF, P_MASK_SB, P_MASK_SH, P_MASK_SI, P_HAS_MASK, P_MASK_SELECTS, P_CAUSAL;
    static int P_O_SLOT, P_O_OFF, P_O_SB, P_O_SH, P_O_SI, P_O_SE;
    static int P_E_SLOT, P_E_OFF, P_E_SB, P_E_SH, P_E_SI, P_E_SE;
    static int P_M, P_N, P_D, P_EV, P_EXTRA, P_EPI;
    static float P_SCALE;
    static final int EP = (P_EV + NR - 1) / NR * NR, BLOCKS = (P_M + MR - 1) / MR;

    /** Per-thread scratch ({@link ThreadScratch}): the steady-state run path allocates nothing. */
    private static final ThreadLocal<float[]> SCORES = new ThreadLocal<>(), ACC = new ThreadLocal<>(), MAX = new ThreadLocal<>(), SUM = new ThreadLocal<>();

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] q = bufs[P_Q_SLOT], k = bufs[P_K_SLOT], v = bufs[P_V_SLOT], o = bufs[P_O_SLOT];
        float[] mask = P_HAS_MASK == 1 ? bufs[P_MASK_SLOT] : null, e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] p = ThreadScratch.of(SCORES, MR * KT), acc = ThreadScratch.of(ACC, MR * EP), m = ThreadScratch.of(MAX, MR), l = ThreadScratch.of(SUM, MR);
        for (int t = lo; t < hi; t++) {
            int b = t / BLOCKS, i0 = t % BLOCKS * MR;
            java.util.Arrays.fill(acc, 0f);
            java.util.Arrays.fill(m, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(l, 0f);
            // causal: keys past the block's last row are masked for all its rows, so those tiles are never read
            int end = P_CAUSAL == 1 ? Math.min(P_N, i0 + MR) : P_N;
            for (int j0 = 0; j0 < end; j0 += KT) {
                scores(q, k, p, b, i0, j0, 0);
                if (j0 + NR < end) scores(q, k, p, b, i0, j0 + NR, NR);
                for (int r = 0; r < MR; r++) {
                    if (P_HAS_MASK == 1) mask(r, mask, p, b, i0, j0);
                    row(r, p, acc, m, l, b, i0, j0);
                }
                if (P_CAUSAL == 1 && j0 + KT - 1 > i0) diagonal(v, p, acc, b, i0, j0);
                else accumulate(v, p, acc, b, j0);
            }
            finish(o, e, acc, l, b, i0);
        }
    }

    /** Group g = (batch, head) of a [B,H,..] operand: its offset from the batch and head strides. */
    private static int group(int g, int sb, int sh) { return g / P_H * sb + g % P_H * sh; }

    private static int qrow(int b, int i) { return P_Q_OFF + group(b, P_Q_SB, P_Q_SH) + Math.min(i, P_M - 1) * P_Q_SI; }

    /** Raw scores Q·Kᵀ of the block's 8 rows for the NR keys from j0, into columns [col, col + NR) of p. */
    private static void scores(float[] q, float[] k, float[] p, int b, int i0, int j0, int col) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        FloatVector s40 = z, s41 = z, s50 = z, s51 = z, s60 = z, s61 = z, s70 = z, s71 = z;
        boolean full = j0 + NR <= P_N;
        VectorMask<Float> k0 = S.indexInRange(j0, P_N), k1 = S.indexInRange(j0 + L, P_N);
        int q0 = qrow(b, i0), q1 = qrow(b, i0 + 1), q2 = qrow(b, i0 + 2), q3 = qrow(b, i0 + 3);
        int q4 = qrow(b, i0 + 4), q5 = qrow(b, i0 + 5), q6 = qrow(b, i0 + 6), q7 = qrow(b, i0 + 7);
        int kb = P_K_OFF + group(b, P_K_SB, P_K_SH) + j0;
        for (int d = 0; d < P_D; d++) {
            int ko = kb + d * P_K_SD, qd = d * P_Q_SD;
            FloatVector b0 = full ? FloatVector.fromArray(S, k, ko) : FloatVector.fromArray(S, k, ko, k0);
            FloatVector b1 = full ? FloatVector.fromArray(S, k, ko + L) : FloatVector.fromArray(S, k, ko + L, k1);
            FloatVector a;
            a = FloatVector.broadcast(S, q[q0 + qd]); s00 = a.fma(b0, s00); s01 = a.fma(b1, s01);
            a = FloatVector.broadcast(S, q[q1 + qd]); s10 = a.fma(b0, s10); s11 = a.fma(b1, s11);
            a = FloatVector.broadcast(S, q[q2 + qd]); s20 = a.fma(b0, s20); s21 = a.fma(b1, s21);
            a = FloatVector.broadcast(S, q[q3 + qd]); s30 = a.fma(b0, s30); s31 = a.fma(b1, s31);
            a = FloatVector.broadcast(S, q[q4 + qd]); s40 = a.fma(b0, s40); s41 = a.fma(b1, s41);
            a = FloatVector.broadcast(S, q[q5 + qd]); s50 = a.fma(b0, s50); s51 = a.fma(b1, s51);
            a = FloatVector.broadcast(S, q[q6 + qd]); s60 = a.fma(b0, s60); s61 = a.fma(b1, s61);
            a = FloatVector.broadcast(S, q[q7 + qd]); s70 = a.fma(b0, s70); s71 = a.fma(b1, s71);
        }
        // scores go through p (not arguments): a vector passed to a call C2 does not inline is boxed
        s00.intoArray(p, col); s01.intoArray(p, col + L); s10.intoArray(p, KT + col); s11.intoArray(p, KT + col + L);
        s20.intoArray(p, 2 * KT + col); s21.intoArray(p, 2 * KT + col + L); s30.intoArray(p, 3 * KT + col); s31.intoArray(p, 3 * KT + col + L);
        s40.intoArray(p, 4 * KT + col); s41.intoArray(p, 4 * KT + col + L); s50.intoArray(p, 5 * KT + col); s51.intoArray(p, 5 * KT + col + L);
        s60.intoArray(p, 6 * KT + col); s61.intoArray(p, 6 * KT + col + L); s70.intoArray(p, 7 * KT + col); s71.intoArray(p, 7 * KT + col + L);
    }

    /**
     * Scaled and masked scores of one row of a key tile, in place in p: s·scale + mask (−∞ where the mask
     * selects). In its own method rather than in {@link #row}: with these loads inside it, row's bytecode
     * was too big for C1's tier-3 register allocator ("out of virtual registers in linear scan"), HotSpot
     * then never compiled it with C2, and the kernel ran C1 code that boxes every vector (16 MB allocated
     * and 5–7× the time of the unfused chain per call at N = 512).
     */
    private static void mask(int r, float[] mask, float[] p, int b, int i0, int j0) {
        boolean full = j0 + KT <= P_N;
        int pr = r * KT, mo = P_MASK_OFF + group(b, P_MASK_SB, P_MASK_SH) + Math.min(i0 + r, P_M - 1) * P_MASK_SI + j0;
        for (int c = 0; c < KT; c += L) {
            FloatVector s = FloatVector.fromArray(S, p, pr + c).mul(P_SCALE);
            FloatVector w = full ? FloatVector.fromArray(S, mask, mo + c) : FloatVector.fromArray(S, mask, mo + c, S.indexInRange(j0 + c, P_N));
            s = s.add(w);
            if (P_MASK_SELECTS == 1) s = s.blend(Float.NEGATIVE_INFINITY, w.eq(Float.NEGATIVE_INFINITY));   // −∞ replaces the score, even a NaN or +∞ one
            s.intoArray(p, pr + c);
        }
    }

    /** Online softmax for one query row over one key tile of KT: new max, rescale, probabilities into p. */
    private static void row(int r, float[] p, float[] acc, float[] m, float[] l, int b, int i0, int j0) {
        boolean full = j0 + KT <= P_N;
        VectorMask<Float> k0 = S.indexInRange(j0, P_N), k1 = S.indexInRange(j0 + L, P_N);
        VectorMask<Float> k2 = S.indexInRange(j0 + 2 * L, P_N), k3 = S.indexInRange(j0 + 3 * L, P_N);
        int pr = r * KT;
        FloatVector s0 = FloatVector.fromArray(S, p, pr), s1 = FloatVector.fromArray(S, p, pr + L);
        FloatVector s2 = FloatVector.fromArray(S, p, pr + 2 * L), s3 = FloatVector.fromArray(S, p, pr + 3 * L);
        if (P_HAS_MASK == 0) {   // mask() has scaled them already
            s0 = s0.mul(P_SCALE);
            s1 = s1.mul(P_SCALE);
            s2 = s2.mul(P_SCALE);
            s3 = s3.mul(P_SCALE);
        }
        if (P_CAUSAL == 1 && j0 + KT - 1 > i0 + r) {   // keys j > i of this row are masked; the count per vector is ≥ 0
            int i = i0 + r;
            s0 = s0.blend(Float.NEGATIVE_INFINITY, S.indexInRange(0, Math.max(0, i + 1 - j0)).not());
            s1 = s1.blend(Float.NEGATIVE_INFINITY, S.indexInRange(0, Math.max(0, i + 1 - j0 - L)).not());
            s2 = s2.blend(Float.NEGATIVE_INFINITY, S.indexInRange(0, Math.max(0, i + 1 - j0 - 2 * L)).not());
            s3 = s3.blend(Float.NEGATIVE_INFINITY, S.indexInRange(0, Math.max(0, i + 1 - j0 - 3 * L)).not());
        }
        if (!full) {
            s0 = s0.blend(Float.NEGATIVE_INFINITY, k0.not());
            s1 = s1.blend(Float.NEGATIVE_INFINITY, k1.not());
            s2 = s2.blend(Float.NEGATIVE_INFINITY, k2.not());
            s3 = s3.blend(Float.NEGATIVE_INFINITY, k3.not());
        }
        float tileMax = s0.max(s1).max(s2.max(s3)).reduceLanes(VectorOperators.MAX);
        float mOld = m[r], mNew = Math.max(mOld, tileMax);
        if (mNew == Float.NEGATIVE_INFINITY) {
            // every key so far is masked (left padding): exp(s − mNew) and exp(mOld − mNew) would be exp(−∞ + ∞) = NaN.
            // The tile adds nothing; m, l and acc stay at −∞, 0, 0, so a row masked to its end gives 0/0 = NaN as the reference does.
            FloatVector z = FloatVector.zero(S);
            z.intoArray(p, pr);
            z.intoArray(p, pr + L);
            z.intoArray(p, pr + 2 * L);
            z.intoArray(p, pr + 3 * L);
            return;
        }
        float corr = (float) Math.exp(mOld - mNew);
        FloatVector p0 = s0.sub(mNew).lanewise(VectorOperators.EXP), p1 = s1.sub(mNew).lanewise(VectorOperators.EXP);
        FloatVector p2 = s2.sub(mNew).lanewise(VectorOperators.EXP), p3 = s3.sub(mNew).lanewise(VectorOperators.EXP);
        if (!full) {
            p0 = p0.blend(0f, k0.not());
            p1 = p1.blend(0f, k1.not());
            p2 = p2.blend(0f, k2.not());
            p3 = p3.blend(0f, k3.not());
        }
        l[r] = l[r] * corr + p0.add(p1).add(p2.add(p3)).reduceLanes(VectorOperators.ADD);
        m[r] = mNew;
        p0.intoArray(p, pr);
        p1.intoArray(p, pr + L);
        p2.intoArray(p, pr + 2 * L);
        p3.intoArray(p, pr + 3 * L);
        if (corr != 1f) {
            int base = r * EP;
            for (int c = 0; c < EP; c += L) FloatVector.fromArray(S, acc, base + c).mul(corr).intoArray(acc, base + c);
        }
    }

    /** acc[r][:] += Σ_j p[r][j] · V[j][:] for the keys of this tile. */
    private static void accumulate(float[] v, float[] p, float[] acc, int b, int j0) {
        int keys = Math.min(KT, P_N - j0), vb = P_V_OFF + group(b, P_V_SB, P_V_SH) + j0 * P_V_SJ;
        for (int e0 = 0; e0 < EP; e0 += NR) {
            boolean full = e0 + NR <= P_EV;
            VectorMask<Float> k0 = S.indexInRange(e0, P_EV), k1 = S.indexInRange(e0 + L, P_EV);
            FloatVector a00 = FloatVector.fromArray(S, acc, e0), a01 = FloatVector.fromArray(S, acc, e0 + L);
            FloatVector a10 = FloatVector.fromArray(S, acc, EP + e0), a11 = FloatVector.fromArray(S, acc, EP + e0 + L);
            FloatVector a20 = FloatVector.fromArray(S, acc, 2 * EP + e0), a21 = FloatVector.fromArray(S, acc, 2 * EP + e0 + L);
            FloatVector a30 = FloatVector.fromArray(S, acc, 3 * EP + e0), a31 = FloatVector.fromArray(S, acc, 3 * EP + e0 + L);
            FloatVector a40 = FloatVector.fromArray(S, acc, 4 * EP + e0), a41 = FloatVector.fromArray(S, acc, 4 * EP + e0 + L);
            FloatVector a50 = FloatVector.fromArray(S, acc, 5 * EP + e0), a51 = FloatVector.fromArray(S, acc, 5 * EP + e0 + L);
            FloatVector a60 = FloatVector.fromArray(S, acc, 6 * EP + e0), a61 = FloatVector.fromArray(S, acc, 6 * EP + e0 + L);
            FloatVector a70 = FloatVector.fromArray(S, acc, 7 * EP + e0), a71 = FloatVector.fromArray(S, acc, 7 * EP + e0 + L);
            for (int jj = 0; jj < keys; jj++) {
                int vo = vb + jj * P_V_SJ + e0;
                FloatVector b0 = full ? FloatVector.fromArray(S, v, vo) : FloatVector.fromArray(S, v, vo, k0);
                FloatVector b1 = full ? FloatVector.fromArray(S, v, vo + L) : FloatVector.fromArray(S, v, vo + L, k1);
                FloatVector x;
                x = FloatVector.broadcast(S, p[jj]); a00 = x.fma(b0, a00); a01 = x.fma(b1, a01);
                x = FloatVector.broadcast(S, p[KT + jj]); a10 = x.fma(b0, a10); a11 = x.fma(b1, a11);
                x = FloatVector.broadcast(S, p[2 * KT + jj]); a20 = x.fma(b0, a20); a21 = x.fma(b1, a21);
                x = FloatVector.broadcast(S, p[3 * KT + jj]); a30 = x.fma(b0, a30); a31 = x.fma(b1, a31);
                x = FloatVector.broadcast(S, p[4 * KT + jj]); a40 = x.fma(b0, a40); a41 = x.fma(b1, a41);
                x = FloatVector.broadcast(S, p[5 * KT + jj]); a50 = x.fma(b0, a50); a51 = x.fma(b1, a51);
                x = FloatVector.broadcast(S, p[6 * KT + jj]); a60 = x.fma(b0, a60); a61 = x.fma(b1, a61);
                x = FloatVector.broadcast(S, p[7 * KT + jj]); a70 = x.fma(b0, a70); a71 = x.fma(b1, a71);
            }
            a00.intoArray(acc, e0); a01.intoArray(acc, e0 + L);
            a10.intoArray(acc, EP + e0); a11.intoArray(acc, EP + e0 + L);
            a20.intoArray(acc, 2 * EP + e0); a21.intoArray(acc, 2 * EP + e0 + L);
            a30.intoArray(acc, 3 * EP + e0); a31.intoArray(acc, 3 * EP + e0 + L);
            a40.intoArray(acc, 4 * EP + e0); a41.intoArray(acc, 4 * EP + e0 + L);
            a50.intoArray(acc, 5 * EP + e0); a51.intoArray(acc, 5 * EP + e0 + L);
            a60.intoArray(acc, 6 * EP + e0); a61.intoArray(acc, 6 * EP + e0 + L);
            a70.intoArray(acc, 7 * EP + e0); a71.intoArray(acc, 7 * EP + e0 + L);
        }
    }

    /**
     * acc[r][:] += Σ p[r][j] · V[j][:] over the keys j ≤ i of each row only, for a causal tile that crosses
     * the block's diagonal: a masked key takes no part at all (0·V would be NaN for a V row holding NaN or ±∞,
     * and the tiles past the diagonal are never read). Row by row; only one or two tiles per block come here.
     */
    private static void diagonal(float[] v, float[] p, float[] acc, int b, int i0, int j0) {
        int vb = P_V_OFF + group(b, P_V_SB, P_V_SH) + j0 * P_V_SJ;
        for (int r = 0; r < MR; r++) {
            int keys = Math.min(Math.min(KT, P_N - j0), i0 + r + 1 - j0), base = r * EP;
            for (int jj = 0; jj < keys; jj++) {
                FloatVector x = FloatVector.broadcast(S, p[r * KT + jj]);
                int vo = vb + jj * P_V_SJ;
                for (int e0 = 0; e0 < EP; e0 += L) {
                    FloatVector w = e0 + L <= P_EV ? FloatVector.fromArray(S, v, vo + e0) : FloatVector.fromArray(S, v, vo + e0, S.indexInRange(e0, P_EV));
                    x.fma(w, FloatVector.fromArray(S, acc, base + e0)).intoArray(acc, base + e0);
                }
            }
        }
    }

    /** out = epilogue(acc / l) for the block's real rows, in the output's layout. */
    private static void finish(float[] o, float[] e, float[] acc, float[] l, int b, int i0) {
        int rows = Math.min(MR, P_M - i0);
        for (int r = 0; r < rows; r++) {
            float inv = 1f / l[r];
            int i = i0 + r, ob = P_O_OFF + group(b, P_O_SB, P_O_SH) + i * P_O_SI, eb = P_E_OFF + group(b, P_E_SB, P_E_SH) + i * P_E_SI;
            if (P_O_SE == 1 && (P_EXTRA == 0 || P_E_SE == 1)) {
                int c = 0;
                for (; c <= P_EV - L; c += L) {
                    FloatVector x = FloatVector.fromArray(S, acc, r * EP + c).mul(inv);
                    FloatVector ex = P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eb + c);
                    VecMath.epilogue(x, ex, P_EPI).intoArray(o, ob + c);
                }
                for (; c < P_EV; c++)
                    o[ob + c] = VecMath.epilogue(acc[r * EP + c] * inv, P_EXTRA == 0 ? 0f : e[eb + c], P_EPI);
            } else {
                for (int c = 0; c < P_EV; c++)
                    o[ob + c * P_O_SE] = VecMath.epilogue(acc[r * EP + c] * inv, P_EXTRA == 0 ? 0f : e[eb + c * P_E_SE], P_EPI);
            }
        }
    }

}
