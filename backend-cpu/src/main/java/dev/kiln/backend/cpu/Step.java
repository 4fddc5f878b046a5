package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;

/** One thing the executable does per call, in order. */
sealed interface Step permits Step.KernelStep {

    void run(float[][] bufs, ParallelFor pool);

    /** A specialised kernel run over [0, range) of its parallel axis, split across threads. */
    record KernelStep(String name, Kernel kernel, int range, Specialiser.Specialised code) implements Step {
        @Override public void run(float[][] bufs, ParallelFor pool) {
            try {
                pool.run(kernel, bufs, range);
            } catch (dev.kiln.ir.InvalidIndexException e) {
                // a kernel's bad index (Gather) knows the value, not the node: name it here
                throw new dev.kiln.ir.InvalidIndexException(name + ": " + e.getMessage());
            }
        }
    }
}
