package dev.kiln.backend.cpu.kernels;

/** Breaks a template rule: a parameter of a type that is neither int nor float. */
public final class LongParameterKernel implements Kernel {
    static long P_N;

    @Override public void run(float[][] bufs, int lo, int hi) { bufs[0][0] = P_N; }
}
