package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * softmax along one axis of a 4-d view. Each task is one line along the axis; the other three
 * axes index the tasks (O1, O2 their extents, OS0..OS2 their strides). When the axis has unit
 * stride the line is vectorised; otherwise it is walked with its stride.
 */
public final class SoftmaxKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_XS0, P_XS1, P_XS2, P_XA;
    static int P_Y_SLOT, P_Y_OFF, P_YS0, P_YS1, P_YS2, P_YA;
    static int P_O1, P_O2, P_LEN;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int i2 = t % P_O2, i1 = t / P_O2 % P_O1, i0 = t / P_O2 / P_O1;
            int xo = P_X_OFF + i0 * P_XS0 + i1 * P_XS1 + i2 * P_XS2;
            int yo = P_Y_OFF + i0 * P_YS0 + i1 * P_YS1 + i2 * P_YS2;
            if (P_XA == 1 && P_YA == 1) line(x, xo, y, yo);
            else strided(x, xo, y, yo);
        }
    }

    private static void line(float[] x, int xo, float[] y, int yo) {
        int j = 0;
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; j <= P_LEN - S.length(); j += S.length()) vmax = vmax.max(FloatVector.fromArray(S, x, xo + j));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; j < P_LEN; j++) max = Math.max(max, x[xo + j]);
        if (max == Float.NEGATIVE_INFINITY) max = 0f;  // all −∞: exp gives 0/0 = NaN, as the reference
        FloatVector vsum = FloatVector.zero(S);
        j = 0;
        for (; j <= P_LEN - S.length(); j += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, xo + j).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(y, yo + j);
            vsum = vsum.add(e);
        }
        float sum = vsum.reduceLanes(VectorOperators.ADD);
        for (; j < P_LEN; j++) {
            float e = (float) Math.exp(x[xo + j] - max);
            y[yo + j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        j = 0;
        for (; j <= P_LEN - S.length(); j += S.length()) FloatVector.fromArray(S, y, yo + j).mul(inv).intoArray(y, yo + j);
        for (; j < P_LEN; j++) y[yo + j] *= inv;
    }

    private static void strided(float[] x, int xo, float[] y, int yo) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < P_LEN; j++) max = Math.max(max, x[xo + j * P_XA]);
        if (max == Float.NEGATIVE_INFINITY) max = 0f;
        double sum = 0;
        for (int j = 0; j < P_LEN; j++) {
            float e = (float) Math.exp(x[xo + j * P_XA] - max);
            y[yo + j * P_YA] = e;
            sum += e;
        }
        float inv = (float) (1 / sum);
        for (int j = 0; j < P_LEN; j++) y[yo + j * P_YA] *= inv;
    }
}
