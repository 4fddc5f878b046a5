package dev.kiln.backend.cpu.kernels;

/**
 * Per-thread scratch of a kernel template, made on a thread's first call, so the steady-state run
 * path allocates nothing. Each template (and so each of its specialisations) keeps its own
 * ThreadLocal; a thread's array is sized by its first call, and every later call of that
 * specialisation asks for the same size.
 */
public final class ThreadScratch {
    private ThreadScratch() {}

    public static float[] of(ThreadLocal<float[]> local, int floats) {
        float[] s = local.get();
        if (s == null) {
            s = new float[floats];
            local.set(s);
        }
        return s;
    }

    public static int[] ints(ThreadLocal<int[]> local, int ints) {
        int[] s = local.get();
        if (s == null) {
            s = new int[ints];
            local.set(s);
        }
        return s;
    }
}
