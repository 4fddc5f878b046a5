package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A graph lowered to a list of steps over one bufs array per call context. Contexts (the
 * arena and the bufs table) are pooled: a call takes one, so concurrent calls never share an
 * arena, and a steady stream of calls allocates only its output tensors.
 */
final class CpuExecutable implements Executable {
    private final Graph graph;
    private final List<Step> steps;
    private final ParallelFor pool;
    private final boolean ownsPool;
    private final int arenaFloats, slots, weightBase;
    private final List<float[]> weights;
    private final Map<String, Integer> inputSlots, outputSlots;
    private final ConcurrentLinkedQueue<float[][]> contexts = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    CpuExecutable(Graph graph, LoweringContext ctx, ParallelFor pool, boolean ownsPool) {
        this.graph = graph;
        this.steps = List.copyOf(ctx.steps);
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.arenaFloats = ctx.arenaFloats();
        this.slots = ctx.slotCount();
        this.weightBase = ctx.weightBase();
        this.weights = List.copyOf(ctx.weights);
        this.inputSlots = Map.copyOf(ctx.inputSlots);
        this.outputSlots = new LinkedHashMap<>(ctx.outputSlots);
    }

    List<Step> steps() { return steps; }

    @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
        Map<String, HostTensor> outputs = new LinkedHashMap<>();
        for (String o : graph.outputs()) outputs.putIfAbsent(o, HostTensor.zeros(graph.typeOf(o).shape()));
        runInto(inputs, outputs);
        return outputs;
    }

    /** Runs writing into caller-owned output tensors (no allocation on this path once warm). */
    @Override public void runInto(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        if (closed) throw new KilnException("executable for graph @" + graph.name() + " is closed");
        ReferenceInterpreter.bindInputs(graph, inputs, new HashMap<>());
        float[][] bufs = contexts.poll();
        if (bufs == null) bufs = newContext();
        try {
            for (var e : inputSlots.entrySet()) bufs[e.getValue()] = inputs.get(e.getKey()).data();
            for (var e : outputSlots.entrySet()) {
                HostTensor t = outputs.get(e.getKey());
                if (t == null || !t.shape().equals(graph.typeOf(e.getKey()).shape()))
                    throw new KilnException("output '" + e.getKey() + "' needs a tensor of shape " + graph.typeOf(e.getKey()).shape());
                bufs[e.getValue()] = t.data();
            }
            for (Step s : steps) s.run(bufs, pool);
            copyPassThroughOutputs(inputs, outputs);
        } finally {
            for (var e : inputSlots.values()) bufs[e] = null;
            for (var e : outputSlots.values()) bufs[e] = null;
            contexts.add(bufs);
        }
    }

    /** Outputs that are graph inputs or constants are not computed by any step. */
    private void copyPassThroughOutputs(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        for (String o : outputSlots.keySet()) {
            HostTensor src = inputs.containsKey(o) ? inputs.get(o) : graph.isConstant(o) ? graph.weight(o) : null;
            if (src != null) System.arraycopy(src.data(), 0, outputs.get(o).data(), 0, src.size());
        }
    }

    private float[][] newContext() {
        float[][] b = new float[slots][];
        b[LoweringContext.ARENA] = new float[arenaFloats];
        for (int i = 0; i < weights.size(); i++) b[weightBase + i] = weights.get(i);
        return b;
    }

    @Override public void close() {
        closed = true;
        contexts.clear();
        if (ownsPool) pool.close();
    }
}
