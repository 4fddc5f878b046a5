package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A graph compiled for one OpenCL device: its program, the weights uploaded once, and a pool of
 * {@link RunBuffers}. Concurrent runs each take buffers from the pool (making new ones when all
 * are busy), so they never share working memory. close() waits for runs in flight, then
 * releases every buffer, kernel and its reference to the program.
 */
final class OpenClExecutable implements Executable {
    private final Graph graph;
    private final DeviceContext device;
    private final DeviceLayout layout;
    private final List<Kernel> kernels;
    private cl_program program;
    private cl_mem weights;
    private final ArrayDeque<RunBuffers> idle = new ArrayDeque<>();
    private final List<RunBuffers> all = new ArrayList<>();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;
    private final String[] outputNames;
    private final Shape[] outputShapes;
    /** Per output, whether it is a graph input or a constant (copied on the host, not computed). */
    private final boolean[] passThrough;
    /** Device time per kernel when -Dkiln.opencl.profile=true, else null; printed on close. */
    private final KernelProfile profile;

    private OpenClExecutable(Graph graph, DeviceContext device, DeviceLayout layout, List<Kernel> kernels, cl_program program) {
        this.graph = graph;
        this.device = device;
        this.layout = layout;
        this.kernels = kernels;
        this.program = program;
        this.outputNames = new LinkedHashSet<>(graph.outputs()).toArray(String[]::new);
        this.outputShapes = Arrays.stream(outputNames).map(o -> graph.typeOf(o).shape()).toArray(Shape[]::new);
        this.passThrough = new boolean[outputNames.length];
        for (int i = 0; i < outputNames.length; i++) passThrough[i] = graph.isInput(outputNames[i]) || graph.isConstant(outputNames[i]);
        this.profile = KernelProfile.ENABLED ? new KernelProfile(graph.name(), kernels) : null;
    }

    /**
     * Generates, builds (or finds in the cache) and prepares the kernels. If the device allows a
     * kernel a smaller work-group than the one generated (CL_KERNEL_WORK_GROUP_SIZE, e.g. for
     * register pressure on a GPU), everything is generated again under that ceiling.
     */
    static OpenClExecutable create(Graph g, DeviceContext device, DeviceLimits limits, Path cacheDir, Path dumpDir) {
        DeviceLayout layout = new DeviceLayout(g);
        checkFits(device, layout);
        for (int attempt = 0; ; attempt++) {
            List<Kernel> kernels = Lowering.lower(layout, limits);
            String source = Lowering.program(kernels);
            if (dumpDir != null) CodeDump.write(dumpDir, device, layout, kernels, source);
            cl_program program = device.programs().program(source, cacheDir);
            int allowed;
            try {
                allowed = smallestAllowedWorkGroup(device, program, kernels);
            } catch (RuntimeException ex) {
                ClObjects.release(program);
                throw ex;
            }
            if (allowed < Integer.MAX_VALUE) {
                ClObjects.release(program);
                if (attempt == 3)
                    throw new KilnException("OpenCL device " + device.info().describe() + " keeps refusing the work-group sizes of graph @"
                            + g.name() + " (it allows " + allowed + " work-items for some kernel)");
                limits = limits.withMaxWorkGroupSize(Integer.highestOneBit(Math.max(1, allowed)));
                continue;
            }
            OpenClExecutable e = new OpenClExecutable(g, device, layout, kernels, program);
            try {
                e.weights = ClObjects.buffer(device, CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR, layout.weightElements * 4,
                        Pointer.to(layout.packedWeights()), "the weights");
                e.release(e.newBuffers());
            } catch (RuntimeException ex) {
                e.close();
                throw ex;
            }
            return e;
        }
    }

    /** Refuses graphs whose buffers cannot fit the device, before anything is allocated. */
    private static void checkFits(DeviceContext device, DeviceLayout layout) {
        long total = layout.arenaBytes + layout.weightElements * 4;
        for (String v : layout.inputBuffers) total += layout.of(v).bytes();
        for (String v : layout.outputBuffers) total += layout.of(v).bytes();
        if (total > device.info().limits().globalMemBytes())
            throw ClObjects.outOfMemory(device, "graph @" + layout.graph.name() + " (arena, weights, inputs and outputs)", total,
                    "more than the device's global memory", null);
    }

    /** The smallest work-group ceiling the device imposes on a kernel that asks for more; MAX_VALUE if none does. */
    private static int smallestAllowedWorkGroup(DeviceContext device, cl_program program, List<Kernel> kernels) {
        int worst = Integer.MAX_VALUE;
        for (Kernel k : kernels) {
            if (k.isEmpty()) continue;
            cl_kernel ck = null;
            try {
                ck = CL.clCreateKernel(program, k.name(), null);
                ClObjects.created(ClObjects.Kind.KERNEL);
                long[] size = new long[1];
                CL.clGetKernelWorkGroupInfo(ck, device.info().id(), CL.CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(size), null);
                if (size[0] < k.workGroupSize()) worst = (int) Math.min(worst, size[0]);
            } catch (CLException e) {
                throw new KilnException("OpenCL could not create kernel " + k.name() + " for " + k.node().describe() + ": " + e.getMessage(), e);
            } finally {
                ClObjects.release(ck);
            }
        }
        return worst;
    }

    /** The device arena as placed: the graph's plan (the OpenCL kernels need no scratch of their own). */
    @Override public java.util.Optional<dev.kiln.ir.MemoryPlan> memoryPlan() { return java.util.Optional.of(layout.plan); }

    @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
        Map<String, HostTensor> outputs = new LinkedHashMap<>();
        for (String o : graph.outputs()) outputs.putIfAbsent(o, HostTensor.zeros(graph.typeOf(o).shape()));
        runInto(inputs, outputs);
        return outputs;
    }

    /** Runs writing into caller-owned output tensors; allocates nothing once warm (OpenClAllocationTest). */
    @Override public void runInto(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        lifecycle.readLock().lock();
        try {
            if (closed) throw new KilnException("OpenCL executable for graph @" + graph.name() + " is closed");
            ReferenceInterpreter.checkInputs(graph, inputs);
            for (int i = 0; i < outputNames.length; i++) {
                HostTensor t = outputs.get(outputNames[i]);
                if (t == null || !t.shape().equals(outputShapes[i]))
                    throw new ShapeException("output '" + outputNames[i] + "' needs a tensor of shape " + outputShapes[i]);
            }
            RunBuffers buffers = take();
            try {
                buffers.run(inputs, outputs);
            } catch (RuntimeException e) {
                discard(buffers);
                throw e;
            }
            release(buffers);
            copyPassThroughOutputs(inputs, outputs);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Outputs that are graph inputs or constants: no kernel computes them. */
    private void copyPassThroughOutputs(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        for (int i = 0; i < outputNames.length; i++) {
            if (!passThrough[i]) continue;
            String o = outputNames[i];
            HostTensor src = graph.isConstant(o) ? graph.weight(o) : inputs.get(o);
            System.arraycopy(src.data(), 0, outputs.get(o).data(), 0, src.size());
        }
    }

    /** Kernels as generated, in launch order (for tests and dumps). */
    List<Kernel> kernels() { return kernels; }

    DeviceLayout layout() { return layout; }

    private RunBuffers take() {
        synchronized (idle) {
            RunBuffers b = idle.pollFirst();
            if (b != null) return b;
        }
        return newBuffers();
    }

    private RunBuffers newBuffers() {
        RunBuffers b = new RunBuffers(device, layout, kernels, program, weights, profile);
        synchronized (idle) { all.add(b); }
        return b;
    }

    private void release(RunBuffers b) {
        synchronized (idle) { idle.addFirst(b); }
    }

    private void discard(RunBuffers b) {
        synchronized (idle) { all.remove(b); }
        b.close();
    }

    /** How many sets of run buffers exist (one per run that was ever in flight at once). */
    int bufferSets() {
        synchronized (idle) { return all.size(); }
    }

    @Override public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            synchronized (idle) {
                for (RunBuffers b : all) b.close();
                all.clear();
                idle.clear();
            }
            ClObjects.release(weights);
            weights = null;
            ClObjects.release(program);
            program = null;
            if (profile != null) System.err.print(profile.report());
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
