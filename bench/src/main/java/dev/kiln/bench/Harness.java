package dev.kiln.bench;

import dev.kiln.ir.Backend;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.passes.PassManager;
import dev.kiln.passes.Passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** Compiles a graph for a benchmark and holds its inputs and output buffers, so the measured call allocates nothing. */
final class Harness implements AutoCloseable {
    /**
     * Every fork runs with 64-byte object alignment, so each array's data starts at the same offset
     * within a cache line. With the default 8 the same jar measured cnn at 80 µs in some forks and
     * 195 µs in others; with 64 one run had no slow fork, later ones still had some (README, "A JVM
     * flag that may steady the speed").
     */
    static final String ALIGN_ARRAYS = "-XX:ObjectAlignmentInBytes=64";

    final Executable exe;
    final Map<String, HostTensor> inputs = new LinkedHashMap<>(), outputs = new LinkedHashMap<>();
    private final Graph graph;

    /**
     * Compiles g after the default pipeline minus the named passes (e.g. a fusion, for its unfused
     * baseline). Threads are the cpu backend's option; OpenCL would refuse it as unknown.
     */
    Harness(Graph g, String backend, int threads, String... withoutPasses) {
        this(g, backend, backend.equals("cpu") ? Map.of("threads", Integer.toString(threads)) : Map.of(), withoutPasses);
    }

    /** As above, with any backend options (e.g. the cpu backend's "conv"). */
    Harness(Graph g, String backend, Map<String, String> options, String... withoutPasses) {
        List<String> pipeline = new ArrayList<>(Passes.DEFAULT);
        pipeline.removeAll(List.of(withoutPasses));
        this.graph = PassManager.of(pipeline).run(g).graph();
        this.exe = backend(backend).compile(graph, options);
        long seed = 1;
        for (Graph.Value v : graph.inputs()) inputs.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        for (String o : graph.outputs()) outputs.put(o, HostTensor.zeros(graph.typeOf(o).shape()));
    }

    Graph graph() { return graph; }

    /** One call of the compiled graph; returns an output element so the work cannot be eliminated. */
    float call() {
        exe.runInto(inputs, outputs);
        return outputs.values().iterator().next().data()[0];
    }

    static Backend backend(String name) {
        for (Backend b : ServiceLoader.load(Backend.class)) if (b.name().equals(name)) return b;
        throw new KilnException("no backend named " + name);
    }

    @Override public void close() { exe.close(); }
}
