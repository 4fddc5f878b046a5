package dev.kiln.ir;

import java.util.Map;

/** A compiled graph. Thread-safe: concurrent calls each use their own working memory. */
public interface Executable extends AutoCloseable {
    /** Runs on named inputs (shapes must match the compiled signature) and returns named outputs. */
    Map<String, HostTensor> run(Map<String, HostTensor> inputs);

    /** Releases native resources (device buffers, kernels). Calling run afterwards is an error. */
    @Override void close();
}
