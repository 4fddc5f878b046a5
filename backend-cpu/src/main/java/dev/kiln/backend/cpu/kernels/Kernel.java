package dev.kiln.backend.cpu.kernels;

/**
 * A compiled kernel: one IR node's work over the index range [lo, hi) of its parallel axis.
 * {@code bufs} holds every array the graph touches (arena, inputs, outputs, packed weights);
 * which slots and offsets a kernel reads are constants baked into its class.
 */
public interface Kernel {
    void run(float[][] bufs, int lo, int hi);
}
