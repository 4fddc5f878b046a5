package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A graph lowered to a list of steps over one bufs array per call context. Contexts (the
 * arena and the bufs table) are pooled: a call takes one, so concurrent calls never share an
 * arena. runInto allocates nothing once warm (CpuTargetModelsTest counts it): the inputs are
 * checked without building a map, and idle contexts wait in a fixed array rather than a queue
 * that would allocate a node per call.
 *
 * <p>close() waits for the calls in flight, then closes the worker pool; a call that starts
 * after it fails. Calls are counted rather than holding a read lock: a ReentrantReadWriteLock
 * tracks each reader thread's holds and, with concurrent callers, allocates for them per call.
 */
final class CpuExecutable implements Executable {
    private final Graph graph;
    private final List<Step> steps;
    private final ParallelFor pool;
    private final boolean ownsPool;
    private final int arenaFloats, slots, weightBase;
    private final MemoryPlan plan;
    private final List<float[]> weights;
    private final Map<String, Integer> outputSlots;
    /** Graph inputs and outputs by position: names, bufs slots, and for outputs the shape a caller's tensor must have. */
    private final String[] inputNames, outputNames;
    private final int[] inputSlotOf, outputSlotOf;
    private final Shape[] outputShapes;
    /** Idle contexts; more concurrent callers than slots simply drop theirs when done. */
    private final AtomicReferenceArray<float[][]> idle =
            new AtomicReferenceArray<>(Math.max(8, 2 * Runtime.getRuntime().availableProcessors()));
    private volatile boolean closed;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** close() waits on it until inFlight is 0; the last call out notifies. */
    private final Object drained = new Object();
    /** Per-step nanoseconds of the last {@link #RECENT} calls, when -Dkiln.cpu.profile=true; printed on close. */
    private final long[] profile = Boolean.getBoolean("kiln.cpu.profile") ? new long[0] : null;
    /** Medians over the most recent calls only: the mean over all calls is mostly JIT warm-up. */
    private static final int RECENT = 64;
    private long[][] stepNanos;
    private long[] stepBytes;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    private long profiledCalls;

    CpuExecutable(Graph graph, LoweringContext ctx, ParallelFor pool, boolean ownsPool) {
        this.graph = graph;
        this.steps = List.copyOf(ctx.steps);
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.arenaFloats = ctx.arenaFloats();
        this.plan = ctx.plan();
        this.slots = ctx.slotCount();
        this.weightBase = ctx.weightBase();
        this.weights = List.copyOf(ctx.weights);
        this.outputSlots = new LinkedHashMap<>(ctx.outputSlots);
        this.inputNames = ctx.inputSlots.keySet().toArray(String[]::new);
        this.inputSlotOf = Arrays.stream(inputNames).mapToInt(ctx.inputSlots::get).toArray();
        this.outputNames = outputSlots.keySet().toArray(String[]::new);
        this.outputSlotOf = Arrays.stream(outputNames).mapToInt(outputSlots::get).toArray();
        this.outputShapes = Arrays.stream(outputNames).map(o -> graph.typeOf(o).shape()).toArray(Shape[]::new);
    }

    List<Step> steps() { return steps; }

    @Override public Optional<MemoryPlan> memoryPlan() { return Optional.of(plan); }

    @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
        Map<String, HostTensor> outputs = new LinkedHashMap<>();
        for (String o : graph.outputs()) outputs.putIfAbsent(o, HostTensor.zeros(graph.typeOf(o).shape()));
        runInto(inputs, outputs);
        return outputs;
    }

    /** Runs writing into caller-owned output tensors (no allocation on this path once warm). */
    @Override public void runInto(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        // counted before closed is read, and close() sets closed before it reads the count: one of them sees the other
        inFlight.incrementAndGet();
        try {
            if (closed) throw new KilnException("executable for graph @" + graph.name() + " is closed");
            runSteps(inputs, outputs);
        } finally {
            if (inFlight.decrementAndGet() == 0 && closed) synchronized (drained) { drained.notifyAll(); }
        }
    }

    private void runSteps(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        ReferenceInterpreter.checkInputs(graph, inputs);
        float[][] bufs = takeContext();
        try {
            for (int i = 0; i < inputNames.length; i++) bufs[inputSlotOf[i]] = inputs.get(inputNames[i]).data();
            for (int i = 0; i < outputNames.length; i++) {
                HostTensor t = outputs.get(outputNames[i]);
                if (t == null || !t.shape().equals(outputShapes[i]))
                    throw new KilnException("output '" + outputNames[i] + "' needs a tensor of shape " + outputShapes[i]);
                bufs[outputSlotOf[i]] = t.data();
            }
            if (profile == null) for (int i = 0; i < steps.size(); i++) steps.get(i).run(bufs, pool);
            else profiledSteps(bufs);
            copyPassThroughOutputs(inputs, outputs);
        } finally {
            for (int slot : inputSlotOf) bufs[slot] = null;
            for (int slot : outputSlotOf) bufs[slot] = null;
            giveBack(bufs);
        }
    }

    private float[][] takeContext() {
        for (int i = 0; i < idle.length(); i++) {
            float[][] b = idle.get(i);
            if (b != null && idle.compareAndSet(i, b, null)) return b;
        }
        return newContext();
    }

    private void giveBack(float[][] bufs) {
        if (closed) return;
        for (int i = 0; i < idle.length(); i++)
            if (idle.get(i) == null && idle.compareAndSet(i, null, bufs)) return;
    }

    /** Outputs that are graph inputs or constants are not computed by any step. */
    private void copyPassThroughOutputs(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        for (String o : outputNames) {
            HostTensor src = inputs.containsKey(o) ? inputs.get(o) : graph.isConstant(o) ? graph.weight(o) : null;
            if (src != null) System.arraycopy(src.data(), 0, outputs.get(o).data(), 0, src.size());
        }
    }

    private synchronized void profiledSteps(float[][] bufs) {
        if (stepNanos == null) {
            stepNanos = new long[steps.size()][RECENT];
            stepBytes = new long[steps.size()];
        }
        int at = (int) (profiledCalls % RECENT);
        for (int i = 0; i < steps.size(); i++) {
            long b0 = THREADS.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
            steps.get(i).run(bufs, pool);
            stepNanos[i][at] = System.nanoTime() - t0;
            stepBytes[i] = THREADS.getCurrentThreadAllocatedBytes() - b0;
        }
        profiledCalls++;
    }

    /** The profile: each step's median time over the last calls, slowest first, named after its IR node. */
    synchronized String profileReport() {
        if (stepNanos == null) return "no profiled calls";
        int n = (int) Math.min(profiledCalls, RECENT);
        long[] median = new long[steps.size()];
        for (int i = 0; i < steps.size(); i++) {
            long[] recent = Arrays.copyOf(stepNanos[i], n);
            Arrays.sort(recent);
            median[i] = recent[n / 2];
        }
        long total = Arrays.stream(median).sum();
        StringBuilder sb = new StringBuilder(String.format("kiln cpu profile of @%s, medians of the last %d of %d calls, sum %.1f µs "
                + "(µs per call; bytes allocated on the calling thread in the last call, which means boxed vectors: a kernel C2 has not compiled, or compiled without intrinsics):%n",
                graph.name(), n, profiledCalls, total / 1e3));
        java.util.stream.IntStream.range(0, steps.size()).boxed().sorted((a, b) -> Long.compare(median[b], median[a]))
                .forEach(i -> sb.append(String.format("  %9.2f  %5.1f%%  %10d B  %s%n", median[i] / 1e3, 100.0 * median[i] / Math.max(1, total), stepBytes[i], describe(steps.get(i)))));
        return sb.toString();
    }

    private static String describe(Step s) {
        return switch (s) {
            case Step.KernelStep k -> k.name() + " [range " + k.range() + "]";
        };
    }

    private float[][] newContext() {
        float[][] b = new float[slots][];
        b[LoweringContext.ARENA] = new float[arenaFloats];
        for (int i = 0; i < weights.size(); i++) b[weightBase + i] = weights.get(i);
        return b;
    }

    @Override public void close() {
        boolean first;
        synchronized (drained) {
            first = !closed;
            closed = true;
            boolean interrupted = false;
            while (inFlight.get() != 0) {
                try {
                    drained.wait();
                } catch (InterruptedException e) {
                    interrupted = true;     // still wait: the pool must not close under a running call
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        if (!first) return;
        for (int i = 0; i < idle.length(); i++) idle.set(i, null);
        if (profile != null) System.err.print(profileReport());
        if (ownsPool) pool.close();
    }
}
