package dev.kiln.backend.cpu.kernels;

import dev.kiln.ir.InvalidIndexException;
import dev.kiln.ir.op.Gather;

/**
 * Gather along one axis of contiguous data viewed as [OUTER, EXTENT, INNER]: one task per
 * (outer, index) pair copies one run of INNER elements (an embedding row). The indices are f32
 * integers (the IR's integer tensors); one that is not an integer or is outside [−EXTENT, EXTENT)
 * throws before anything is read, with Gather's own message.
 */
public final class GatherKernel implements Kernel {
    static int P_X_SLOT, P_X_OFF, P_I_SLOT, P_I_OFF, P_Y_SLOT, P_Y_OFF;
    /** Number of indices, extent of the gathered axis, elements per gathered run. */
    static int P_COUNT, P_EXTENT, P_INNER;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], ix = bufs[P_I_SLOT], y = bufs[P_Y_SLOT];
        for (int r = lo; r < hi; r++) {
            int o = r / P_COUNT, j = r - o * P_COUNT;
            float v = ix[P_I_OFF + j];
            int k = (int) v;
            if (k != v) bad(v, j);
            if (k < 0) k += P_EXTENT;
            if (k < 0 || k >= P_EXTENT) bad(v, j);
            System.arraycopy(x, P_X_OFF + (o * P_EXTENT + k) * P_INNER, y, P_Y_OFF + r * P_INNER, P_INNER);
        }
    }

    private static void bad(float v, int j) {
        throw new InvalidIndexException(Gather.message(v, P_EXTENT, j));
    }
}
