package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The recurrent half of one GRU layer and direction, run after the input projection
 * G = X·W_ihᵀ + b_ih + (b_hr, b_hz, 0) has been computed for every (step, batch) row by
 * {@link GemmKernel}. Unlike an LSTM's, the recurrent product cannot be added into G: the
 * candidate n = tanh(G_n + r⊙(W_hn·h + b_hn)) needs it on its own. So per step and batch row,
 * R = BH + h·W_hhᵀ goes to scratch (BH = (0, 0, b_hn), padded; W_hh packed at compile time in
 * panels of NR = 2 vectors over the 3H gate outputs, [3H/NR][H][NR], and R's rows padded to
 * whole panels so the product needs no masks), then r, z = σ(G + R), n as above and
 * h = n + z⊙(h − n) along H, vectorised with a scalar tail. h of each batch row lives in scratch
 * (HS: [DIRS·B][HID]) and also goes to Y[row] at column d·HID of a row of DIRS·HID floats.
 * A task is one (direction d, batch row b) pair, k = d·B + b, with all its steps in order, so
 * the two directions of a bidirectional layer run in parallel; two rows of a task range share
 * each weight load. Direction d has its own G (at d·G_DIR), packed W_hh (at d·W_DIR) and BH (at
 * d·G_RS); direction 1 walks the steps from the last to the first. Rows are ordered as the
 * sequence is stored: row = b·T + t when BATCH_FIRST, else t·B + b.
 */
public final class GruKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    static int P_G_SLOT, P_G_OFF, P_G_RS, P_G_DIR, P_W_SLOT, P_W_DIR, P_BH_SLOT, P_Y_SLOT, P_Y_OFF, P_DIRS;
    static int P_S_SLOT, P_HS_OFF, P_R_OFF, P_INIT, P_H0_SLOT, P_H0_OFF;
    static int P_HID, P_T, P_B, P_BATCH_FIRST;
    /** Activation slots for the gates: the lowering sets them to Act.SIGMOID and Act.TANH. */
    static int P_SIGMOID, P_TANH;
    static final int TILES = (3 * P_HID + NR - 1) / NR;

    @Override public void run(float[][] bufs, int lo, int hi) {
        for (int d = 0; d < P_DIRS; d++) {
            int from = Math.max(lo, d * P_B), to = Math.min(hi, (d + 1) * P_B);
            if (from < to) direction(bufs, d, from, to);
        }
    }

    /** Tasks [from, to) of direction d: every step of each, in the direction's order. */
    private static void direction(float[][] bufs, int d, int from, int to) {
        float[] g = bufs[P_G_SLOT], w = bufs[P_W_SLOT], bh = bufs[P_BH_SLOT], y = bufs[P_Y_SLOT], s = bufs[P_S_SLOT];
        for (int k = from; k < to; k++) init(bufs, s, bh, d, k);
        for (int t = 0; t < P_T; t++) {
            // with a zero initial state the first step's R is the bias init() copied
            boolean recur = t > 0 || P_INIT == 1;
            int k = from;
            for (; k + 1 < to; k += 2) {
                if (recur) recur2(w, bh, s, d, k);
                gates(g, s, y, d, row(t, k - d * P_B, d), k);
                gates(g, s, y, d, row(t, k + 1 - d * P_B, d), k + 1);
            }
            for (; k < to; k++) {
                if (recur) recur1(w, bh, s, d, k);
                gates(g, s, y, d, row(t, k - d * P_B, d), k);
            }
        }
    }

    /** The row of step s (counted in direction d's order) of batch row b. */
    private static int row(int s, int b, int d) {
        int t = d == 1 ? P_T - 1 - s : s;
        return P_BATCH_FIRST == 1 ? b * P_T + t : t * P_B + b;
    }

    private static void init(float[][] bufs, float[] s, float[] bh, int d, int k) {
        int hs = P_HS_OFF + k * P_HID;
        if (P_INIT == 1) System.arraycopy(bufs[P_H0_SLOT], P_H0_OFF + k * P_HID, s, hs, P_HID);
        else java.util.Arrays.fill(s, hs, hs + P_HID, 0f);
        System.arraycopy(bh, d * P_G_RS, s, P_R_OFF + k * P_G_RS, P_G_RS);
    }

    /** R[k] = BH + h[k]·W_hhᵀ for one task; two accumulator pairs so consecutive FMAs do not wait on each other. */
    private static void recur1(float[] w, float[] bh, float[] s, int d, int k0) {
        int ro = P_R_OFF + k0 * P_G_RS, ho = P_HS_OFF + k0 * P_HID, bo = d * P_G_RS, wd = d * P_W_DIR;
        for (int j = 0; j < TILES; j++) {
            int n0 = j * NR, wb = wd + j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, bh, bo + n0), a1 = FloatVector.fromArray(S, bh, bo + n0 + L);
            FloatVector d0 = FloatVector.zero(S), d1 = d0;
            int k = 0;
            for (; k + 1 < P_HID; k += 2) {
                int wo = wb + k * NR;
                FloatVector x = FloatVector.broadcast(S, s[ho + k]), z = FloatVector.broadcast(S, s[ho + k + 1]);
                a0 = x.fma(FloatVector.fromArray(S, w, wo), a0);
                a1 = x.fma(FloatVector.fromArray(S, w, wo + L), a1);
                d0 = z.fma(FloatVector.fromArray(S, w, wo + NR), d0);
                d1 = z.fma(FloatVector.fromArray(S, w, wo + NR + L), d1);
            }
            for (; k < P_HID; k++) {
                int wo = wb + k * NR;
                FloatVector x = FloatVector.broadcast(S, s[ho + k]);
                a0 = x.fma(FloatVector.fromArray(S, w, wo), a0);
                a1 = x.fma(FloatVector.fromArray(S, w, wo + L), a1);
            }
            a0.add(d0).intoArray(s, ro + n0);
            a1.add(d1).intoArray(s, ro + n0 + L);
        }
    }

    /** The same for tasks k and k+1 (of the same direction), sharing every weight load. */
    private static void recur2(float[] w, float[] bh, float[] s, int d, int k0) {
        int ra = P_R_OFF + k0 * P_G_RS, rb = ra + P_G_RS, ha = P_HS_OFF + k0 * P_HID, hb = ha + P_HID, bo = d * P_G_RS, wd = d * P_W_DIR;
        for (int j = 0; j < TILES; j++) {
            int n0 = j * NR, wb = wd + j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, bh, bo + n0), a1 = FloatVector.fromArray(S, bh, bo + n0 + L);
            FloatVector b0 = a0, b1 = a1;
            for (int k = 0; k < P_HID; k++) {
                int wo = wb + k * NR;
                FloatVector w0 = FloatVector.fromArray(S, w, wo), w1 = FloatVector.fromArray(S, w, wo + L);
                FloatVector x = FloatVector.broadcast(S, s[ha + k]), z = FloatVector.broadcast(S, s[hb + k]);
                a0 = x.fma(w0, a0);
                a1 = x.fma(w1, a1);
                b0 = z.fma(w0, b0);
                b1 = z.fma(w1, b1);
            }
            a0.intoArray(s, ra + n0);
            a1.intoArray(s, ra + n0 + L);
            b0.intoArray(s, rb + n0);
            b1.intoArray(s, rb + n0 + L);
        }
    }

    /** r, z, n from G[row] and R[k] (gate order as PyTorch); updates h of task k and writes it to Y[row]. */
    private static void gates(float[] g, float[] s, float[] y, int d, int row, int k) {
        int go = P_G_OFF + d * P_G_DIR + row * P_G_RS, ro = P_R_OFF + k * P_G_RS, ho = P_HS_OFF + k * P_HID;
        int yo = P_Y_OFF + row * P_DIRS * P_HID + d * P_HID;
        int j = 0;
        for (; j <= P_HID - L; j += L) {
            FloatVector r = VecMath.apply(FloatVector.fromArray(S, g, go + j).add(FloatVector.fromArray(S, s, ro + j)), P_SIGMOID);
            FloatVector z = VecMath.apply(FloatVector.fromArray(S, g, go + P_HID + j).add(FloatVector.fromArray(S, s, ro + P_HID + j)), P_SIGMOID);
            FloatVector n = VecMath.apply(r.fma(FloatVector.fromArray(S, s, ro + 2 * P_HID + j), FloatVector.fromArray(S, g, go + 2 * P_HID + j)), P_TANH);
            FloatVector h = z.fma(FloatVector.fromArray(S, s, ho + j).sub(n), n);
            h.intoArray(s, ho + j);
            h.intoArray(y, yo + j);
        }
        for (; j < P_HID; j++) {
            float r = VecMath.apply(g[go + j] + s[ro + j], P_SIGMOID), z = VecMath.apply(g[go + P_HID + j] + s[ro + P_HID + j], P_SIGMOID);
            float n = VecMath.apply(Math.fma(r, s[ro + 2 * P_HID + j], g[go + 2 * P_HID + j]), P_TANH);
            float h = Math.fma(z, s[ho + j] - n, n);
            s[ho + j] = h;
            y[yo + j] = h;
        }
    }
}
