package dev.kiln.ir;

import java.util.Map;

/** A compiled graph. Thread-safe: concurrent calls each use their own working memory. */
public interface Executable extends AutoCloseable {
    /** Runs on named inputs (shapes must match the compiled signature) and returns named outputs. */
    Map<String, HostTensor> run(Map<String, HostTensor> inputs);

    /**
     * Runs writing into caller-owned output tensors of the right shapes. Backends override this to
     * avoid allocating on the steady-state path; the default copies from {@link #run}.
     */
    default void runInto(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        for (var e : run(inputs).entrySet()) {
            HostTensor dst = outputs.get(e.getKey());
            if (dst == null || !dst.shape().equals(e.getValue().shape()))
                throw new ShapeException("output '" + e.getKey() + "' needs a tensor of shape " + e.getValue().shape());
            System.arraycopy(e.getValue().data(), 0, dst.data(), 0, dst.size());
        }
    }

    /**
     * The arena this executable runs in: its results and its kernels' working memory, as placed.
     * Empty for a backend that does not plan one; what {@code kiln inspect} and the compile summary report.
     */
    default java.util.Optional<MemoryPlan> memoryPlan() { return java.util.Optional.empty(); }

    /** Releases native resources (device buffers, kernels). Calling run afterwards is an error. */
    @Override void close();
}
