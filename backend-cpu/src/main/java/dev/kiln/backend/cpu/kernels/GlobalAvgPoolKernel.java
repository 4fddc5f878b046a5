package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Mean over H×W for each (n, c); one task per (n, c). */
public final class GlobalAvgPoolKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_X_S0, P_X_S1, P_X_S2, P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_C, P_H, P_W;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int c = t % P_C, n = t / P_C;
            int xo = P_X_OFF + n * P_X_S0 + c * P_X_S1;
            FloatVector acc = FloatVector.zero(S);
            float tail = 0f;
            for (int r = 0; r < P_H; r++) {
                int row = xo + r * P_X_S2, j = 0;
                for (; j <= P_W - S.length(); j += S.length()) acc = acc.add(FloatVector.fromArray(S, x, row + j));
                for (; j < P_W; j++) tail += x[row + j];
            }
            y[P_Y_OFF + n * P_Y_S0 + c * P_Y_S1] = (acc.reduceLanes(VectorOperators.ADD) + tail) / (P_H * P_W);
        }
    }
}
