package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The working memory of one run at a time: an arena, the input and output buffers, and a
 * kernel object per launch with its arguments bound once (clSetKernelArg is not thread-safe on
 * a shared kernel, so concurrent runs each take their own RunBuffers). A run writes the inputs,
 * enqueues the kernels in graph order and reads the outputs; nothing else crosses to the host.
 */
final class RunBuffers implements AutoCloseable {
    private final DeviceContext device;
    private final DeviceLayout layout;
    private final List<Kernel> kernels;
    private cl_mem arena;
    private final cl_mem[] inputs, outputs;
    private final cl_kernel[] clKernels;
    /** Per kernel, its error buffer when it binds {@link Kernel#ERRORS} (else null), and the host copy read after a run. */
    private final cl_mem[] errors;
    private final int[] errorWords = new int[3];

    RunBuffers(DeviceContext device, DeviceLayout layout, List<Kernel> kernels, cl_program program, cl_mem weights) {
        this.device = device;
        this.layout = layout;
        this.kernels = kernels;
        this.inputs = new cl_mem[layout.inputBuffers.size()];
        this.outputs = new cl_mem[layout.outputBuffers.size()];
        this.clKernels = new cl_kernel[kernels.size()];
        this.errors = new cl_mem[kernels.size()];
        try {
            arena = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE, layout.arenaBytes, null, "the arena of intermediates");
            for (int i = 0; i < inputs.length; i++)
                inputs[i] = ClObjects.buffer(device, CL.CL_MEM_READ_ONLY, layout.of(layout.inputBuffers.get(i)).bytes(), null,
                        "input %" + layout.inputBuffers.get(i));
            for (int i = 0; i < outputs.length; i++)
                outputs[i] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE, layout.of(layout.outputBuffers.get(i)).bytes(), null,
                        "output %" + layout.outputBuffers.get(i));
            for (int k = 0; k < clKernels.length; k++) {
                Kernel kernel = kernels.get(k);
                if (kernel.isEmpty()) continue;
                clKernels[k] = CL.clCreateKernel(program, kernel.name(), null);
                ClObjects.created(ClObjects.Kind.KERNEL);
                for (int a = 0; a < kernel.args().size(); a++) {
                    String arg = kernel.args().get(a);
                    if (arg.equals(Kernel.ERRORS)) {
                        errors[k] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE | CL.CL_MEM_COPY_HOST_PTR, 12, Pointer.to(new int[3]),
                                "the error words of " + kernel.name());
                    }
                    CL.clSetKernelArg(clKernels[k], a, Sizeof.cl_mem, Pointer.to(arg.equals(Kernel.ERRORS) ? errors[k] : buffer(arg, weights)));
                }
            }
            fill(0, Math.max(layout.arenaBytes, 4));
            CL.clFinish(device.queue());
        } catch (CLException e) {
            close();
            if (ClObjects.isOutOfMemory(e))
                throw ClObjects.outOfMemory(device, "the buffers of one run", totalBytes(), CL.stringFor_errorCode(e.getStatus()), e);
            throw new KilnException("OpenCL could not set up the buffers and kernels of a run on " + device.info().describe() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    long totalBytes() {
        long n = layout.arenaBytes;
        for (String v : layout.inputBuffers) n += layout.of(v).bytes();
        for (String v : layout.outputBuffers) n += layout.of(v).bytes();
        return n;
    }

    private cl_mem buffer(String value, cl_mem weights) {
        DeviceLayout.Storage s = layout.of(value);
        return switch (s.where()) {
            case ARENA -> arena;
            case WEIGHTS -> weights;
            case INPUT -> inputs[s.index()];
            case OUTPUT -> outputs[s.index()];
        };
    }

    /** One run: inputs already checked against the graph's signature. */
    Map<String, HostTensor> run(Map<String, HostTensor> in) {
        cl_command_queue q = device.queue();
        int step = -1;
        try {
            zeroBefore(-1);
            for (DeviceLayout.HaloedInput h : layout.haloedInputs) writeHaloed(h, in.get(h.name()).data());
            for (int i = 0; i < inputs.length; i++) {
                float[] d = in.get(layout.inputBuffers.get(i)).data();
                if (d.length > 0) CL.clEnqueueWriteBuffer(q, inputs[i], true, 0, (long) d.length * 4, Pointer.to(d), 0, null, null);
            }
            for (step = 0; step < clKernels.length; step++) {
                zeroBefore(step);
                Kernel k = kernels.get(step);
                if (clKernels[step] != null)
                    CL.clEnqueueNDRangeKernel(q, clKernels[step], k.global().length, null, k.global(), k.local(), 0, null, null);
            }
            step = clKernels.length;
            checkErrors();
            Map<String, float[]> read = new LinkedHashMap<>();
            for (int i = 0; i < outputs.length; i++) {
                float[] d = new float[layout.of(layout.outputBuffers.get(i)).type().shape().elementCount()];
                if (d.length > 0) CL.clEnqueueReadBuffer(q, outputs[i], true, 0, (long) d.length * 4, Pointer.to(d), 0, null, null);
                read.put(layout.outputBuffers.get(i), d);
            }
            return results(in, read);
        } catch (CLException e) {
            String where = step >= 0 && step < kernels.size() ? "kernel " + kernels.get(step).name() + " for " + kernels.get(step).node().describe()
                    : "transferring inputs or outputs";
            if (ClObjects.isOutOfMemory(e))
                throw ClObjects.outOfMemory(device, "running " + where, totalBytes(), CL.stringFor_errorCode(e.getStatus()), e);
            throw new KilnException("OpenCL failed " + (where.startsWith("kernel") ? "running " : "") + where + " on "
                    + device.info().describe() + ": " + e.getMessage(), e);
        }
    }

    /** Throws for the first kernel (in graph order) that reported bad data, resetting its words for the next run. */
    private void checkErrors() {
        for (int k = 0; k < errors.length; k++) {
            if (errors[k] == null) continue;
            CL.clEnqueueReadBuffer(device.queue(), errors[k], true, 0, 12, Pointer.to(errorWords), 0, null, null);
            if (errorWords[0] == 0) continue;
            float v = Float.intBitsToFloat(errorWords[1]);
            int j = errorWords[2];
            CL.clEnqueueWriteBuffer(device.queue(), errors[k], true, 0, 12, Pointer.to(new int[3]), 0, null, null);
            Kernel kernel = kernels.get(k);
            if (!(kernel.node().op() instanceof dev.kiln.ir.op.Gather g))
                throw new KilnException(kernel.node().describe() + ": the kernel reported bad data");
            int extent = layout.graph.typeOf(kernel.node().inputs().getFirst()).dim(g.axis());
            throw new dev.kiln.ir.InvalidIndexException(kernel.node().describe() + ": " + dev.kiln.ir.op.Gather.message(v, extent, j));
        }
    }

    private Map<String, HostTensor> results(Map<String, HostTensor> in, Map<String, float[]> read) {
        Graph g = layout.graph;
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String name : g.outputs()) {
            Shape shape = g.typeOf(name).shape();
            float[] d = read.get(name);
            if (d != null) out.put(name, HostTensor.of(shape, out.containsKey(name) ? d.clone() : d));
            else if (g.isInput(name)) out.put(name, in.get(name).copy());
            else out.put(name, g.weight(name).copy());
        }
        return out;
    }

    private void zeroBefore(int node) {
        for (DeviceLayout.ZeroFill z : layout.zeroFills) if (z.beforeNode() == node) fill(z.offsetBytes(), z.bytes());
    }

    private void fill(long offset, long bytes) {
        CL.clEnqueueFillBuffer(device.queue(), arena, Pointer.to(new float[]{0f}), 4, offset, bytes, 0, null, null);
    }

    /** Writes an [N,C,H,W] input into its haloed arena slot, row by row, leaving the zero border. */
    private void writeHaloed(DeviceLayout.HaloedInput h, float[] data) {
        DeviceLayout.Storage s = h.storage();
        int[] d = s.type().shape().dims(), halo = s.halo();
        if (data.length == 0) return;
        long wp = d[3] + halo[1] + halo[3], hp = d[2] + halo[0] + halo[2];
        long origin = (s.offset() + halo[0] * wp + halo[1]) * 4;
        CL.clEnqueueWriteBufferRect(device.queue(), arena, true, new long[]{origin, 0, 0}, new long[]{0, 0, 0},
                new long[]{d[3] * 4L, d[2], (long) d[0] * d[1]}, wp * 4, hp * wp * 4, d[3] * 4L, (long) d[2] * d[3] * 4,
                Pointer.to(data), 0, null, null);
    }

    @Override public void close() {
        for (int k = 0; k < clKernels.length; k++) { ClObjects.release(clKernels[k]); clKernels[k] = null; }
        for (int i = 0; i < inputs.length; i++) { ClObjects.release(inputs[i]); inputs[i] = null; }
        for (int i = 0; i < outputs.length; i++) { ClObjects.release(outputs[i]); outputs[i] = null; }
        for (int k = 0; k < errors.length; k++) { ClObjects.release(errors[k]); errors[k] = null; }
        ClObjects.release(arena);
        arena = null;
    }
}
