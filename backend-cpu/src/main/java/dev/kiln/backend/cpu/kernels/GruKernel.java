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
 * (HS: [B][HID]) and also goes to Y[row] at column Y_COL of a row of Y_RS floats. A task is one
 * batch row (all steps in order); two rows of a task share each weight load. Rows are ordered as
 * the sequence is stored: row = b·T + t when BATCH_FIRST, else t·B + b; a REVERSE kernel walks
 * the steps from the last to the first.
 */
public final class GruKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    static int P_G_SLOT, P_G_OFF, P_G_RS, P_W_SLOT, P_BH_SLOT, P_Y_SLOT, P_Y_OFF, P_Y_RS, P_Y_COL, P_REVERSE;
    static int P_S_SLOT, P_HS_OFF, P_R_OFF, P_INIT, P_H0_SLOT, P_H0_OFF;
    static int P_HID, P_T, P_B, P_BATCH_FIRST;
    /** Activation slots for the gates: the lowering sets them to Act.SIGMOID and Act.TANH. */
    static int P_SIGMOID, P_TANH;
    static final int TILES = (3 * P_HID + NR - 1) / NR;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] g = bufs[P_G_SLOT], w = bufs[P_W_SLOT], bh = bufs[P_BH_SLOT], y = bufs[P_Y_SLOT], s = bufs[P_S_SLOT];
        for (int b = lo; b < hi; b++) init(bufs, s, bh, b);
        for (int t = 0; t < P_T; t++) {
            // with a zero initial state the first step's R is the bias init() copied
            boolean recur = t > 0 || P_INIT == 1;
            int b = lo;
            for (; b + 1 < hi; b += 2) {
                if (recur) recur2(w, bh, s, b);
                gates(g, s, y, row(t, b), b);
                gates(g, s, y, row(t, b + 1), b + 1);
            }
            for (; b < hi; b++) {
                if (recur) recur1(w, bh, s, b);
                gates(g, s, y, row(t, b), b);
            }
        }
    }

    /** The row of step s (counted in the kernel's direction) of batch row b. */
    private static int row(int s, int b) {
        int t = P_REVERSE == 1 ? P_T - 1 - s : s;
        return P_BATCH_FIRST == 1 ? b * P_T + t : t * P_B + b;
    }

    private static void init(float[][] bufs, float[] s, float[] bh, int b) {
        int hs = P_HS_OFF + b * P_HID;
        if (P_INIT == 1) System.arraycopy(bufs[P_H0_SLOT], P_H0_OFF + b * P_HID, s, hs, P_HID);
        else java.util.Arrays.fill(s, hs, hs + P_HID, 0f);
        System.arraycopy(bh, 0, s, P_R_OFF + b * P_G_RS, P_G_RS);
    }

    /** R[b] = BH + h[b]·W_hhᵀ for one row; two accumulator pairs so consecutive FMAs do not wait on each other. */
    private static void recur1(float[] w, float[] bh, float[] s, int b) {
        int ro = P_R_OFF + b * P_G_RS, ho = P_HS_OFF + b * P_HID;
        for (int j = 0; j < TILES; j++) {
            int n0 = j * NR, wb = j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, bh, n0), a1 = FloatVector.fromArray(S, bh, n0 + L);
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

    /** The same for batch rows b and b+1, sharing every weight load. */
    private static void recur2(float[] w, float[] bh, float[] s, int b) {
        int ra = P_R_OFF + b * P_G_RS, rb = ra + P_G_RS, ha = P_HS_OFF + b * P_HID, hb = ha + P_HID;
        for (int j = 0; j < TILES; j++) {
            int n0 = j * NR, wb = j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, bh, n0), a1 = FloatVector.fromArray(S, bh, n0 + L);
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

    /** r, z, n from G[row] and R[b] (gate order as PyTorch); updates h of batch b and writes it to Y[row]. */
    private static void gates(float[] g, float[] s, float[] y, int row, int b) {
        int go = P_G_OFF + row * P_G_RS, ro = P_R_OFF + b * P_G_RS, ho = P_HS_OFF + b * P_HID, yo = P_Y_OFF + row * P_Y_RS + P_Y_COL;
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
