package dev.kiln.backend.cpu.kernels;

/**
 * Running sum along the middle axis of contiguous data viewed as [OUTER, N, INNER]: one task per
 * (outer, inner) line, accumulated in double as the reference does (position ids are integers,
 * exact either way). EXCLUSIVE leaves each element out of its own sum; REVERSE runs from the end.
 */
public final class CumSumKernel implements Kernel {
    static int P_X_SLOT, P_X_OFF, P_Y_SLOT, P_Y_OFF;
    static int P_N, P_INNER, P_EXCLUSIVE, P_REVERSE;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int line = lo; line < hi; line++) {
            int o = line / P_INNER, i = line - o * P_INNER;
            int base = o * P_N * P_INNER + i;
            double acc = 0;
            for (int step = 0; step < P_N; step++) {
                int p = base + (P_REVERSE == 1 ? P_N - 1 - step : step) * P_INNER;
                float v = x[P_X_OFF + p];
                if (P_EXCLUSIVE == 1) {
                    y[P_Y_OFF + p] = (float) acc;
                    acc += v;
                } else {
                    acc += v;
                    y[P_Y_OFF + p] = (float) acc;
                }
            }
        }
    }
}
