package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention with the queries along the vector lanes, for channel-major Q and output (SAGAN's
 * 2-D attention: Q [D][M], K [D][N], V [E][N], out [E][M], D = C/8 small). A task is one batch
 * and a block of QB = 2 vectors of queries. For each query lane the scores of a key tile are
 * Σ_d K[d][j]·Q[d][lane] (K broadcast, Q a vector), so the softmax runs down the key axis with
 * lane-wise max and sum: no horizontal reduction and no scalar exp, unlike {@link AttentionKernel},
 * whose rows are queries. The P·V product is then out[e][lanes] += V[e][j]·P[j][lanes], V
 * broadcast: V channel-major is read as it is, with no transposed copy. Key tiles of KT keys use
 * an online softmax (running lane-wise max and sum, the partial outputs rescaled per tile), so
 * the per-thread scratch is O(KT + E) vectors, never O(N²).
 */
public final class LaneAttentionKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), QB = 2 * L, ER = 8;
    static int P_Q_SLOT, P_Q_OFF, P_Q_SB, P_Q_SD;
    static int P_K_SLOT, P_K_OFF, P_K_SB, P_K_SD, P_K_SJ;
    static int P_V_SLOT, P_V_OFF, P_V_SB, P_V_SE, P_V_SJ;
    static int P_O_SLOT, P_O_OFF, P_O_SB, P_O_SE;
    static int P_E_SLOT, P_E_OFF, P_E_SB, P_E_SE;
    static int P_M, P_N, P_D, P_EV, P_KT, P_EXTRA, P_EPI;
    static float P_SCALE;
    static final int BLOCKS = (P_M + QB - 1) / QB;

    /** Per-thread scratch ({@link ThreadScratch}): probabilities of a tile, partial outputs, and the lane state. */
    private static final ThreadLocal<float[]> PROBS = new ThreadLocal<>(), ACC = new ThreadLocal<>(), STATE = new ThreadLocal<>();

    // lane state, QB floats each: running max, running sum, this tile's max, the rescale factor
    /** exp's constants: t = x·log2(e) + 1.5·2²³ rounds to an integer n held in t's low mantissa bits. */
    static final float LOG2E = 1.44269504f, ROUNDER = 12582912f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** t's bits minus this are n + 127, the biased exponent of 2^n (n ≥ −127 since x ≥ −88: 0 at worst). */
    static final int EXP_BIAS = 0x4B400000 - 127;

    static final int MAX = 0, SUM = QB, TILE_MAX = 2 * QB, CORR = 3 * QB;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] q = bufs[P_Q_SLOT], k = bufs[P_K_SLOT], v = bufs[P_V_SLOT], o = bufs[P_O_SLOT];
        float[] e = P_EXTRA == 0 ? null : bufs[P_E_SLOT];
        float[] p = ThreadScratch.of(PROBS, P_KT * QB), acc = ThreadScratch.of(ACC, P_EV * QB), st = ThreadScratch.of(STATE, 4 * QB);
        for (int t = lo; t < hi; t++) {
            int b = t / BLOCKS, i0 = t % BLOCKS * QB;
            java.util.Arrays.fill(st, MAX, MAX + QB, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(st, SUM, SUM + QB, 0f);
            for (int j0 = 0; j0 < P_N; j0 += P_KT) {
                int kt = Math.min(P_KT, P_N - j0);
                scores(q, k, p, st, b, i0, j0, kt);
                softmax(p, st, kt);
                for (int e0 = 0; e0 < P_EV; e0 += ER) product(v, p, acc, st, b, j0, kt, e0);
            }
            finish(o, e, acc, st, b, i0);
        }
    }

    /** Scaled scores of the block's queries for keys [j0, j0 + kt) into p[jj][QB], four keys at a time; the tile's lane-wise max into st. */
    private static void scores(float[] q, float[] k, float[] p, float[] st, int b, int i0, int j0, int kt) {
        boolean full = i0 + QB <= P_M;
        VectorMask<Float> m0 = S.indexInRange(i0, P_M), m1 = S.indexInRange(i0 + L, P_M);
        int qb = P_Q_OFF + b * P_Q_SB + i0, kb = P_K_OFF + b * P_K_SB + j0 * P_K_SJ;
        FloatVector mx0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), mx1 = mx0;
        int jj = 0;
        for (; jj <= kt - 4; jj += 4) {
            FloatVector z = FloatVector.zero(S);
            FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
            int kj = kb + jj * P_K_SJ;
            for (int d = 0; d < P_D; d++) {
                int qo = qb + d * P_Q_SD, ko = kj + d * P_K_SD;
                FloatVector a0 = full ? FloatVector.fromArray(S, q, qo) : FloatVector.fromArray(S, q, qo, m0);
                FloatVector a1 = full ? FloatVector.fromArray(S, q, qo + L) : FloatVector.fromArray(S, q, qo + L, m1);
                FloatVector x;
                x = FloatVector.broadcast(S, k[ko]); s00 = x.fma(a0, s00); s01 = x.fma(a1, s01);
                x = FloatVector.broadcast(S, k[ko + P_K_SJ]); s10 = x.fma(a0, s10); s11 = x.fma(a1, s11);
                x = FloatVector.broadcast(S, k[ko + 2 * P_K_SJ]); s20 = x.fma(a0, s20); s21 = x.fma(a1, s21);
                x = FloatVector.broadcast(S, k[ko + 3 * P_K_SJ]); s30 = x.fma(a0, s30); s31 = x.fma(a1, s31);
            }
            // the reference rounds the dot product to f32 and then scales it, as the unfused chain does
            s00 = s00.mul(P_SCALE); s01 = s01.mul(P_SCALE); s10 = s10.mul(P_SCALE); s11 = s11.mul(P_SCALE);
            s20 = s20.mul(P_SCALE); s21 = s21.mul(P_SCALE); s30 = s30.mul(P_SCALE); s31 = s31.mul(P_SCALE);
            mx0 = mx0.max(s00).max(s10).max(s20.max(s30));
            mx1 = mx1.max(s01).max(s11).max(s21.max(s31));
            int po = jj * QB;
            s00.intoArray(p, po); s01.intoArray(p, po + L); s10.intoArray(p, po + QB); s11.intoArray(p, po + QB + L);
            s20.intoArray(p, po + 2 * QB); s21.intoArray(p, po + 2 * QB + L); s30.intoArray(p, po + 3 * QB); s31.intoArray(p, po + 3 * QB + L);
        }
        for (; jj < kt; jj++) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0;
            int kj = kb + jj * P_K_SJ;
            for (int d = 0; d < P_D; d++) {
                int qo = qb + d * P_Q_SD;
                FloatVector a0 = full ? FloatVector.fromArray(S, q, qo) : FloatVector.fromArray(S, q, qo, m0);
                FloatVector a1 = full ? FloatVector.fromArray(S, q, qo + L) : FloatVector.fromArray(S, q, qo + L, m1);
                FloatVector x = FloatVector.broadcast(S, k[kj + d * P_K_SD]);
                s0 = x.fma(a0, s0); s1 = x.fma(a1, s1);
            }
            s0 = s0.mul(P_SCALE); s1 = s1.mul(P_SCALE);
            mx0 = mx0.max(s0); mx1 = mx1.max(s1);
            s0.intoArray(p, jj * QB); s1.intoArray(p, jj * QB + L);
        }
        mx0.intoArray(st, TILE_MAX);
        mx1.intoArray(st, TILE_MAX + L);
    }

    /**
     * Online softmax down the key axis, lane by lane: new running max, the rescale factor of what
     * earlier tiles summed, probabilities exp(s − max) in place of the scores, and the running sum.
     */
    private static void softmax(float[] p, float[] st, int kt) {
        for (int h = 0; h < QB; h += L) {
            FloatVector mOld = FloatVector.fromArray(S, st, MAX + h), mNew = mOld.max(FloatVector.fromArray(S, st, TILE_MAX + h));
            // a lane whose keys so far are all −∞ subtracts 0 instead: exp(−∞ − (−∞)) would be NaN where the
            // reference (which sees all keys at once) gets 0 for these keys once a later tile has a finite score
            FloatVector base = mNew.blend(0f, mNew.eq(Float.NEGATIVE_INFINITY));
            FloatVector corr = mOld.sub(base).lanewise(VectorOperators.EXP);
            FloatVector sum = FloatVector.zero(S), nLn2Lo = FloatVector.broadcast(S, -LN2_LO), one = FloatVector.broadcast(S, 1f);
            FloatVector c2 = FloatVector.broadcast(S, 0.5f), c6 = FloatVector.broadcast(S, 1f / 6), c24 = FloatVector.broadcast(S, 1f / 24);
            FloatVector c120 = FloatVector.broadcast(S, 1f / 120), c720 = FloatVector.broadcast(S, 1f / 720);
            for (int jj = 0; jj < kt; jj++) {
                // exp(x) for x = s − max ≤ 0, written out: VectorOperators.EXP is a call into the JDK's vector math
                // library that took about a third of the kernel. x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor
                // polynomial to r⁶ (error < 2e-7 relative), 2^n put into the exponent bits. Below −88 the result is 0
                // (e^−88 is under f32's smallest normal, and the row's max contributes e^0 = 1). NaN stays NaN.
                FloatVector x = FloatVector.fromArray(S, p, jj * QB + h).sub(base).max(-88f);
                FloatVector t = x.fma(LOG2E, ROUNDER), n = t.sub(ROUNDER);
                FloatVector r = n.fma(nLn2Lo, x.sub(n.mul(LN2_HI)));   // n·LN2_HI is exact: LN2_HI has 9 significant bits
                FloatVector y = r.fma(c720, c120).fma(r, c24).fma(r, c6).fma(r, c2).fma(r, one).fma(r, one);
                FloatVector pow2 = t.reinterpretAsInts().sub(EXP_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                x = y.mul(pow2);
                sum = sum.add(x);
                x.intoArray(p, jj * QB + h);
            }
            FloatVector.fromArray(S, st, SUM + h).mul(corr).add(sum).intoArray(st, SUM + h);
            mNew.intoArray(st, MAX + h);
            corr.intoArray(st, CORR + h);
        }
    }

    /** acc[e][lanes] = corr · acc[e][lanes] + Σ_jj V[e][j0 + jj] · p[jj][lanes] for the ER rows from e0 (rows past EV repeat the last, unstored). */
    private static void product(float[] v, float[] p, float[] acc, float[] st, int b, int j0, int kt, int e0) {
        int vb = P_V_OFF + b * P_V_SB + j0 * P_V_SJ;
        int v0 = vb + Math.min(e0, P_EV - 1) * P_V_SE, v1 = vb + Math.min(e0 + 1, P_EV - 1) * P_V_SE;
        int v2 = vb + Math.min(e0 + 2, P_EV - 1) * P_V_SE, v3 = vb + Math.min(e0 + 3, P_EV - 1) * P_V_SE;
        int v4 = vb + Math.min(e0 + 4, P_EV - 1) * P_V_SE, v5 = vb + Math.min(e0 + 5, P_EV - 1) * P_V_SE;
        int v6 = vb + Math.min(e0 + 6, P_EV - 1) * P_V_SE, v7 = vb + Math.min(e0 + 7, P_EV - 1) * P_V_SE;
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        FloatVector a40 = z, a41 = z, a50 = z, a51 = z, a60 = z, a61 = z, a70 = z, a71 = z;
        for (int jj = 0; jj < kt; jj++) {
            FloatVector x0 = FloatVector.fromArray(S, p, jj * QB), x1 = FloatVector.fromArray(S, p, jj * QB + L);
            int vj = jj * P_V_SJ;
            FloatVector y;
            y = FloatVector.broadcast(S, v[v0 + vj]); a00 = y.fma(x0, a00); a01 = y.fma(x1, a01);
            y = FloatVector.broadcast(S, v[v1 + vj]); a10 = y.fma(x0, a10); a11 = y.fma(x1, a11);
            y = FloatVector.broadcast(S, v[v2 + vj]); a20 = y.fma(x0, a20); a21 = y.fma(x1, a21);
            y = FloatVector.broadcast(S, v[v3 + vj]); a30 = y.fma(x0, a30); a31 = y.fma(x1, a31);
            y = FloatVector.broadcast(S, v[v4 + vj]); a40 = y.fma(x0, a40); a41 = y.fma(x1, a41);
            y = FloatVector.broadcast(S, v[v5 + vj]); a50 = y.fma(x0, a50); a51 = y.fma(x1, a51);
            y = FloatVector.broadcast(S, v[v6 + vj]); a60 = y.fma(x0, a60); a61 = y.fma(x1, a61);
            y = FloatVector.broadcast(S, v[v7 + vj]); a70 = y.fma(x0, a70); a71 = y.fma(x1, a71);
        }
        if (j0 > 0) {   // earlier tiles left partial sums under an older max: rescale and add them
            FloatVector c0 = FloatVector.fromArray(S, st, CORR), c1 = FloatVector.fromArray(S, st, CORR + L);
            int r = e0 * QB;
            a00 = FloatVector.fromArray(S, acc, r).fma(c0, a00); a01 = FloatVector.fromArray(S, acc, r + L).fma(c1, a01);
            if (e0 + 1 < P_EV) { a10 = FloatVector.fromArray(S, acc, r + QB).fma(c0, a10); a11 = FloatVector.fromArray(S, acc, r + QB + L).fma(c1, a11); }
            if (e0 + 2 < P_EV) { a20 = FloatVector.fromArray(S, acc, r + 2 * QB).fma(c0, a20); a21 = FloatVector.fromArray(S, acc, r + 2 * QB + L).fma(c1, a21); }
            if (e0 + 3 < P_EV) { a30 = FloatVector.fromArray(S, acc, r + 3 * QB).fma(c0, a30); a31 = FloatVector.fromArray(S, acc, r + 3 * QB + L).fma(c1, a31); }
            if (e0 + 4 < P_EV) { a40 = FloatVector.fromArray(S, acc, r + 4 * QB).fma(c0, a40); a41 = FloatVector.fromArray(S, acc, r + 4 * QB + L).fma(c1, a41); }
            if (e0 + 5 < P_EV) { a50 = FloatVector.fromArray(S, acc, r + 5 * QB).fma(c0, a50); a51 = FloatVector.fromArray(S, acc, r + 5 * QB + L).fma(c1, a51); }
            if (e0 + 6 < P_EV) { a60 = FloatVector.fromArray(S, acc, r + 6 * QB).fma(c0, a60); a61 = FloatVector.fromArray(S, acc, r + 6 * QB + L).fma(c1, a61); }
            if (e0 + 7 < P_EV) { a70 = FloatVector.fromArray(S, acc, r + 7 * QB).fma(c0, a70); a71 = FloatVector.fromArray(S, acc, r + 7 * QB + L).fma(c1, a71); }
        }
        int r = e0 * QB;
        a00.intoArray(acc, r); a01.intoArray(acc, r + L);
        if (e0 + 1 < P_EV) { a10.intoArray(acc, r + QB); a11.intoArray(acc, r + QB + L); }
        if (e0 + 2 < P_EV) { a20.intoArray(acc, r + 2 * QB); a21.intoArray(acc, r + 2 * QB + L); }
        if (e0 + 3 < P_EV) { a30.intoArray(acc, r + 3 * QB); a31.intoArray(acc, r + 3 * QB + L); }
        if (e0 + 4 < P_EV) { a40.intoArray(acc, r + 4 * QB); a41.intoArray(acc, r + 4 * QB + L); }
        if (e0 + 5 < P_EV) { a50.intoArray(acc, r + 5 * QB); a51.intoArray(acc, r + 5 * QB + L); }
        if (e0 + 6 < P_EV) { a60.intoArray(acc, r + 6 * QB); a61.intoArray(acc, r + 6 * QB + L); }
        if (e0 + 7 < P_EV) { a70.intoArray(acc, r + 7 * QB); a71.intoArray(acc, r + 7 * QB + L); }
    }

    /** out[e][lanes] = epilogue(acc[e][lanes] / sum[lanes]) for the block's real queries. */
    private static void finish(float[] o, float[] e, float[] acc, float[] st, int b, int i0) {
        boolean full = i0 + QB <= P_M;
        VectorMask<Float> m0 = S.indexInRange(i0, P_M), m1 = S.indexInRange(i0 + L, P_M);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector inv0 = one.div(FloatVector.fromArray(S, st, SUM)), inv1 = one.div(FloatVector.fromArray(S, st, SUM + L));
        int ob = P_O_OFF + b * P_O_SB + i0, eb = P_E_OFF + b * P_E_SB + i0;
        for (int c = 0; c < P_EV; c++) {
            int oo = ob + c * P_O_SE, eo = eb + c * P_E_SE;
            FloatVector x0 = FloatVector.fromArray(S, acc, c * QB).mul(inv0), x1 = FloatVector.fromArray(S, acc, c * QB + L).mul(inv1);
            if (full) {
                FloatVector ex0 = P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo);
                FloatVector ex1 = P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L);
                VecMath.epilogue(x0, ex0, P_EPI).intoArray(o, oo);
                VecMath.epilogue(x1, ex1, P_EPI).intoArray(o, oo + L);
            } else {
                FloatVector ex0 = P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo, m0);
                FloatVector ex1 = P_EXTRA == 0 ? null : FloatVector.fromArray(S, e, eo + L, m1);
                VecMath.epilogue(x0, ex0, P_EPI).intoArray(o, oo, m0);
                VecMath.epilogue(x1, ex1, P_EPI).intoArray(o, oo + L, m1);
            }
        }
    }
}
