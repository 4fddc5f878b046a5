package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The recurrent half of one LSTM layer, run after the input projection G = X·W_ihᵀ + b_ih + b_hh
 * has been computed for every (step, batch) row by {@link GemmKernel}. Per step and batch row:
 * gates = G[row] + h·W_hhᵀ (W_hh packed at compile time in panels of NR = 2 vectors over the 4H
 * gate outputs, [4H/NR][H][NR]; the sum is written back over G[row], whose row stride G_RS is
 * padded to a whole number of panels so the product needs no masks), then the gate math
 * i, f, o = σ, g = tanh, c = f·c + i·g, h = o·tanh(c) along H, vectorised with a scalar tail.
 * h and c live in scratch (HS, CS: [DIRS·B][HID]); h also goes to Y[row] at column d·HID of a
 * row of DIRS·HID floats. A task is one (direction d, batch row b) pair, k = d·B + b, with all
 * its steps in order, so the two directions of a bidirectional layer run in parallel; two rows of
 * a task range share each weight load. Direction d has its own G (at d·G_DIR) and packed W_hh (at
 * d·W_DIR); direction 1 walks the steps from the last to the first. Rows are ordered as the
 * sequence is stored: row = b·T + t when BATCH_FIRST, else t·B + b.
 */
public final class LstmKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length(), NR = 2 * L;
    static int P_G_SLOT, P_G_OFF, P_G_RS, P_G_DIR, P_W_SLOT, P_W_DIR, P_Y_SLOT, P_Y_OFF, P_DIRS, P_S_SLOT, P_HS_OFF, P_CS_OFF;
    static int P_INIT, P_H0_SLOT, P_H0_OFF, P_C0_SLOT, P_C0_OFF;
    static int P_HID, P_T, P_B, P_BATCH_FIRST;
    /** Activation slots for the gates: the lowering sets them to Act.SIGMOID and Act.TANH. */
    static int P_SIGMOID, P_TANH;
    static final int TILES = (4 * P_HID + NR - 1) / NR;

    @Override public void run(float[][] bufs, int lo, int hi) {
        for (int d = 0; d < P_DIRS; d++) {
            int from = Math.max(lo, d * P_B), to = Math.min(hi, (d + 1) * P_B);
            if (from < to) direction(bufs, d, from, to);
        }
    }

    /** Tasks [from, to) of direction d: every step of each, in the direction's order. */
    private static void direction(float[][] bufs, int d, int from, int to) {
        float[] g = bufs[P_G_SLOT], w = bufs[P_W_SLOT], y = bufs[P_Y_SLOT], s = bufs[P_S_SLOT];
        int gd = P_G_OFF + d * P_G_DIR, wd = d * P_W_DIR, b0 = d * P_B;
        for (int k = from; k < to; k++) init(bufs, s, k);
        for (int t = 0; t < P_T; t++) {
            // with a zero initial state the first step has no recurrent term
            boolean recur = t > 0 || P_INIT == 1;
            int k = from;
            for (; k + 1 < to; k += 2) {
                int ra = row(t, k - b0, d), rb = row(t, k + 1 - b0, d);
                if (recur) recur2(g, w, s, gd + ra * P_G_RS, gd + rb * P_G_RS, wd, k);
                gates(g, s, y, d, ra, k);
                gates(g, s, y, d, rb, k + 1);
            }
            for (; k < to; k++) {
                int r = row(t, k - b0, d);
                if (recur) recur1(g, w, s, gd + r * P_G_RS, wd, k);
                gates(g, s, y, d, r, k);
            }
        }
    }

    /** The row of step s (counted in direction d's order) of batch row b. */
    private static int row(int s, int b, int d) {
        int t = d == 1 ? P_T - 1 - s : s;
        return P_BATCH_FIRST == 1 ? b * P_T + t : t * P_B + b;
    }

    private static void init(float[][] bufs, float[] s, int k) {
        int hs = P_HS_OFF + k * P_HID, cs = P_CS_OFF + k * P_HID;
        if (P_INIT == 1) {
            System.arraycopy(bufs[P_H0_SLOT], P_H0_OFF + k * P_HID, s, hs, P_HID);
            System.arraycopy(bufs[P_C0_SLOT], P_C0_OFF + k * P_HID, s, cs, P_HID);
        } else {
            java.util.Arrays.fill(s, hs, hs + P_HID, 0f);
            java.util.Arrays.fill(s, cs, cs + P_HID, 0f);
        }
    }

    /** G[go..] += h[k]·W_hhᵀ (W_hh at wd) for one row; two accumulator pairs so consecutive FMAs do not wait on each other. */
    private static void recur1(float[] g, float[] w, float[] s, int go, int wd, int k0) {
        int ho = P_HS_OFF + k0 * P_HID;
        for (int j = 0; j < TILES; j++) {
            int n0 = go + j * NR, wb = wd + j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, g, n0), a1 = FloatVector.fromArray(S, g, n0 + L);
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
            a0.add(d0).intoArray(g, n0);
            a1.add(d1).intoArray(g, n0 + L);
        }
    }

    /** The same for the rows of tasks k and k+1 (of the same direction), sharing every weight load. */
    private static void recur2(float[] g, float[] w, float[] s, int ga, int gb, int wd, int k0) {
        int ha = P_HS_OFF + k0 * P_HID, hb = ha + P_HID;
        for (int j = 0; j < TILES; j++) {
            int na = ga + j * NR, nb = gb + j * NR, wb = wd + j * P_HID * NR;
            FloatVector a0 = FloatVector.fromArray(S, g, na), a1 = FloatVector.fromArray(S, g, na + L);
            FloatVector b0 = FloatVector.fromArray(S, g, nb), b1 = FloatVector.fromArray(S, g, nb + L);
            for (int k = 0; k < P_HID; k++) {
                int wo = wb + k * NR;
                FloatVector w0 = FloatVector.fromArray(S, w, wo), w1 = FloatVector.fromArray(S, w, wo + L);
                FloatVector x = FloatVector.broadcast(S, s[ha + k]), z = FloatVector.broadcast(S, s[hb + k]);
                a0 = x.fma(w0, a0);
                a1 = x.fma(w1, a1);
                b0 = z.fma(w0, b0);
                b1 = z.fma(w1, b1);
            }
            a0.intoArray(g, na);
            a1.intoArray(g, na + L);
            b0.intoArray(g, nb);
            b1.intoArray(g, nb + L);
        }
    }

    /** i, f, g, o from direction d's G[row] (gate order as PyTorch); updates c and h of task k and writes h to Y[row]. */
    private static void gates(float[] g, float[] s, float[] y, int d, int row, int k) {
        int go = P_G_OFF + d * P_G_DIR + row * P_G_RS, ho = P_HS_OFF + k * P_HID, co = P_CS_OFF + k * P_HID;
        int yo = P_Y_OFF + row * P_DIRS * P_HID + d * P_HID;
        int j = 0;
        for (; j <= P_HID - L; j += L) {
            FloatVector i = VecMath.apply(FloatVector.fromArray(S, g, go + j), P_SIGMOID);
            FloatVector f = VecMath.apply(FloatVector.fromArray(S, g, go + P_HID + j), P_SIGMOID);
            FloatVector c = VecMath.apply(FloatVector.fromArray(S, g, go + 2 * P_HID + j), P_TANH);
            FloatVector o = VecMath.apply(FloatVector.fromArray(S, g, go + 3 * P_HID + j), P_SIGMOID);
            c = i.fma(c, f.mul(FloatVector.fromArray(S, s, co + j)));
            FloatVector h = o.mul(VecMath.apply(c, P_TANH));
            c.intoArray(s, co + j);
            h.intoArray(s, ho + j);
            h.intoArray(y, yo + j);
        }
        for (; j < P_HID; j++) {
            float i = VecMath.apply(g[go + j], P_SIGMOID), f = VecMath.apply(g[go + P_HID + j], P_SIGMOID);
            float c = VecMath.apply(g[go + 2 * P_HID + j], P_TANH), o = VecMath.apply(g[go + 3 * P_HID + j], P_SIGMOID);
            c = Math.fma(i, c, f * s[co + j]);
            float h = o * VecMath.apply(c, P_TANH);
            s[co + j] = c;
            s[ho + j] = h;
            y[yo + j] = h;
        }
    }
}
