package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;

import java.util.Map;

/**
 * Bytes a steady-state call allocates on the calling thread. Boxed vectors allocate until C2 has compiled a kernel,
 * so the calls are repeated (up to 45 s) until a window of calls allocates at most what the test allows.
 */
final class SteadyAllocation {
    private SteadyAllocation() {}

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** Runs warmCalls then measures measuredCalls, again while they allocate more than allowed bytes per call; the last figure. */
    static long bytesPerCall(Executable exe, Map<String, HostTensor> in, Map<String, HostTensor> out,
                             int warmCalls, int measuredCalls, long allowed) {
        long deadline = System.nanoTime() + 45_000_000_000L, perCall;
        do {
            for (int i = 0; i < warmCalls; i++) exe.runInto(in, out);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < measuredCalls; i++) exe.runInto(in, out);
            perCall = (THREADS.getCurrentThreadAllocatedBytes() - before) / measuredCalls;
        } while (perCall > allowed && System.nanoTime() < deadline);
        return perCall;
    }
}
