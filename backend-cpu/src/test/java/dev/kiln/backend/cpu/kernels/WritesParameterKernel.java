package dev.kiln.backend.cpu.kernels;

/** Breaks a template rule: it assigns a parameter. */
public final class WritesParameterKernel implements Kernel {
    static int P_N;

    @Override public void run(float[][] bufs, int lo, int hi) {
        P_N = hi - lo;
        bufs[0][0] = P_N;
    }
}
