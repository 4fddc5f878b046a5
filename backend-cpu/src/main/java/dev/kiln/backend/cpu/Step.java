package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;

/** One thing the executable does per call, in order. */
sealed interface Step permits Step.KernelStep, Step.ZeroHalo {

    void run(float[][] bufs, ParallelFor pool);

    /** A specialised kernel run over [0, range) of its parallel axis, split across threads. */
    record KernelStep(String name, Kernel kernel, int range, Specialiser.Specialised code) implements Step {
        @Override public void run(float[][] bufs, ParallelFor pool) { pool.run(kernel, bufs, range); }
    }

    /** Zeroes the border of a haloed buffer before its producer writes the interior (the arena is reused, so it may hold old data). */
    record ZeroHalo(Placement p) implements Step {
        @Override public void run(float[][] bufs, ParallelFor pool) {
            float[] a = bufs[p.slot()];
            int[] h = p.halo(), d = p.dims(), s = p.strides();
            int rowLen = d[3] + h[1] + h[3];
            for (int n = 0; n < d[0]; n++)
                for (int c = 0; c < d[1]; c++) {
                    int plane = p.offset() + n * s[0] + c * s[1] - h[0] * s[2] - h[1];
                    for (int r = 0; r < h[0]; r++) java.util.Arrays.fill(a, plane + r * s[2], plane + r * s[2] + rowLen, 0f);
                    for (int r = h[0] + d[2]; r < h[0] + d[2] + h[2]; r++) java.util.Arrays.fill(a, plane + r * s[2], plane + r * s[2] + rowLen, 0f);
                    for (int r = h[0]; r < h[0] + d[2]; r++) {
                        int row = plane + r * s[2];
                        for (int k = 0; k < h[1]; k++) a[row + k] = 0f;
                        for (int k = h[1] + d[3]; k < rowLen; k++) a[row + k] = 0f;
                    }
                }
        }
    }
}
