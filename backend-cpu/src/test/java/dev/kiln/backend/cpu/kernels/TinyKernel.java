package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A template small enough to read its specialised bytecode in a test:
 * y[i] = act(x[X_OFF + i] · SCALE + shift) for i < N, with the shift chosen by a branch on MODE.
 * The shifts are constants nothing else uses, so a test can tell from the bytecode which side
 * of the branch survived.
 */
public final class TinyKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    public static final float SHIFT_IF_MODE_1 = 1234.5f, SHIFT_OTHERWISE = -6789.25f;
    static int P_X_SLOT, P_X_OFF, P_Y_SLOT, P_N, P_MODE, P_ACT;
    static float P_SCALE;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        float shift = shift();
        int i = 0;
        for (; i <= P_N - S.length(); i += S.length())
            VecMath.apply(FloatVector.fromArray(S, x, P_X_OFF + i).mul(P_SCALE).add(shift), P_ACT).intoArray(y, i);
        for (; i < P_N; i++) y[i] = VecMath.apply(x[P_X_OFF + i] * P_SCALE + shift, P_ACT);
    }

    static float shift() {
        if (P_MODE == 1) return SHIFT_IF_MODE_1;
        return SHIFT_OTHERWISE;
    }
}
