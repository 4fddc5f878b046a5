package dev.kiln.backend.opencl;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;
import java.util.Map;

/**
 * The working memory of one run at a time: an arena, the input and output buffers, and a
 * kernel object per launch with its arguments bound once (clSetKernelArg is not thread-safe on
 * a shared kernel, so concurrent runs each take their own RunBuffers).
 *
 * <p>A run waits for the device once. PoCL answers each blocking call after a round trip of
 * ~40 µs (its worker threads are woken and report back), which used to be paid for the input
 * write, once more for each error buffer and once per output read. So every command is enqueued
 * without blocking: inputs are copied into direct (off-heap) staging buffers and written from
 * there (a non-blocking write needs memory the GC does not move), the kernels follow, then the
 * error words and the outputs are read back into staging, and only the last read blocks: the
 * queue is in order, so when it returns everything before it has run. All staging memory and
 * JOCL pointers are made here, so a steady run allocates nothing on the Java heap.
 */
final class RunBuffers implements AutoCloseable {
    private final DeviceContext device;
    private final DeviceLayout layout;
    private final List<Kernel> kernels;
    private cl_mem arena;
    private final cl_mem[] inputs, outputs;
    private final cl_kernel[] clKernels;
    /** Per kernel, its error buffer when it binds {@link Kernel#ERRORS} (else null). */
    private final cl_mem[] errors;
    /** Host staging: one direct buffer per input, haloed input and output, with the JOCL pointer to it. */
    private final FloatBuffer[] inStage, haloStage, outStage;
    private final Pointer[] inPtr, haloPtr, outPtr;
    private final HaloWrite[] haloWrites;
    /** The output read that waits for the run (the last one with data, else -1), and the last kernel with error words (else -1). */
    private final int lastRead, lastError;
    /** Per kernel with error words, its three ints on the host (page-aligned each, as USE_HOST_PTR memory should be), read after every run. */
    private final IntBuffer[] errorWords;
    private final Pointer[] errorPtr;
    private final Pointer zero = Pointer.to(direct(4)), zeroWords = Pointer.to(direct(12));
    /** Per node (index + 1, so 0 is "before the inputs"), the arena ranges to zero before it. */
    private final DeviceLayout.ZeroFill[][] fillsBefore;
    private final KernelProfile profile;
    /** Per kernel and launch, the profiling event of the last run (null unless profiling). */
    private final cl_event[][] events;
    /** Per kernel, its scratch buffer when it binds {@link Kernel#SCRATCH} (else null). */
    private final cl_mem[] scratch;
    /** Per kernel, the position of its {@link Kernel#LAUNCH} argument (else -1), and a pointer to each launch index. */
    private final int[] launchArg;
    private final Pointer[][] launchIndex;
    /**
     * Whether the device computes in host memory (a CPU device with unified memory, as PoCL):
     * then the arena, inputs, outputs and error words are CL_MEM_USE_HOST_PTR buffers over the
     * staging memory, the host reads and writes them in place, and a run enqueues no transfer at
     * all (JOCL also allocates 64 bytes per non-blocking transfer). Elsewhere (a GPU) the staging
     * memory is copied to and from device buffers by non-blocking transfers.
     */
    private final boolean zeroCopy;
    /** The arena's host memory when zeroCopy, else null. */
    private FloatBuffer arenaHost;
    /** What the final blocking read of a zero-copy run lands in: it only serves to wait for the queue. */
    private final Pointer marker = Pointer.to(direct(4));

    RunBuffers(DeviceContext device, DeviceLayout layout, List<Kernel> kernels, cl_program program, cl_mem weights, KernelProfile profile) {
        this.device = device;
        this.layout = layout;
        this.kernels = kernels;
        this.profile = profile;
        this.zeroCopy = OpenClRuntime.sharesHostMemory(device.info());
        long hostFlag = zeroCopy ? CL.CL_MEM_USE_HOST_PTR : 0;
        this.events = profile == null ? null : new cl_event[kernels.size()][];
        this.scratch = new cl_mem[kernels.size()];
        this.launchArg = new int[kernels.size()];
        this.launchIndex = new Pointer[kernels.size()][];
        for (int k = 0; k < kernels.size(); k++) {
            Kernel kernel = kernels.get(k);
            launchArg[k] = kernel.args().indexOf(Kernel.LAUNCH);
            launchIndex[k] = new Pointer[kernel.launches()];
            for (int l = 0; l < kernel.launches(); l++) launchIndex[k][l] = Pointer.to(new int[]{l});
            if (events != null) events[k] = new cl_event[kernel.launches()];
        }
        this.inputs = new cl_mem[layout.inputBuffers.size()];
        this.outputs = new cl_mem[layout.outputBuffers.size()];
        this.clKernels = new cl_kernel[kernels.size()];
        this.errors = new cl_mem[kernels.size()];
        this.inStage = new FloatBuffer[inputs.length];
        this.inPtr = new Pointer[inputs.length];
        this.haloStage = new FloatBuffer[layout.haloedInputs.size()];
        this.haloPtr = new Pointer[haloStage.length];
        this.haloWrites = layout.haloedInputs.stream().map(h -> HaloWrite.of(h.storage())).toArray(HaloWrite[]::new);
        this.outStage = new FloatBuffer[outputs.length];
        this.outPtr = new Pointer[outputs.length];
        this.errorPtr = new Pointer[kernels.size()];
        this.errorWords = new IntBuffer[kernels.size()];
        this.fillsBefore = new DeviceLayout.ZeroFill[kernels.size() + 1][];
        for (int n = -1; n < kernels.size(); n++) {
            int node = n;
            fillsBefore[n + 1] = layout.zeroFills.stream().filter(z -> z.beforeNode() == node).toArray(DeviceLayout.ZeroFill[]::new);
        }
        try {
            ByteBuffer arenaStage = zeroCopy ? direct(layout.arenaBytes) : null;
            arenaHost = zeroCopy ? arenaStage.asFloatBuffer() : null;
            arena = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE | hostFlag, layout.arenaBytes, zeroCopy ? Pointer.to(arenaStage) : null,
                    "the arena of intermediates");
            for (int i = 0; i < inputs.length; i++) {
                long bytes = layout.of(layout.inputBuffers.get(i)).bytes();
                ByteBuffer stage = direct(bytes);
                inStage[i] = stage.asFloatBuffer();
                inPtr[i] = Pointer.to(stage);
                inputs[i] = ClObjects.buffer(device, CL.CL_MEM_READ_ONLY | hostFlag, bytes, zeroCopy ? inPtr[i] : null,
                        "input %" + layout.inputBuffers.get(i));
            }
            for (int i = 0; i < haloStage.length; i++) {
                ByteBuffer stage = direct(layout.haloedInputs.get(i).storage().type().bytes());
                haloStage[i] = stage.asFloatBuffer();
                haloPtr[i] = Pointer.to(stage);
            }
            for (int i = 0; i < outputs.length; i++) {
                long bytes = layout.of(layout.outputBuffers.get(i)).bytes();
                ByteBuffer stage = direct(bytes);
                outStage[i] = stage.asFloatBuffer();
                outPtr[i] = Pointer.to(stage);
                outputs[i] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE | hostFlag, bytes, zeroCopy ? outPtr[i] : null,
                        "output %" + layout.outputBuffers.get(i));
            }
            for (int k = 0; k < clKernels.length; k++) {
                Kernel kernel = kernels.get(k);
                if (kernel.isEmpty()) continue;
                clKernels[k] = CL.clCreateKernel(program, kernel.name(), null);
                ClObjects.created(ClObjects.Kind.KERNEL);
                for (int a = 0; a < kernel.args().size(); a++) {
                    String arg = kernel.args().get(a);
                    if (arg.equals(Kernel.LAUNCH)) continue;   // set before each launch
                    if (arg.equals(Kernel.SCRATCH)) {
                        scratch[k] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE, kernel.scratchFloats() * 4, null, "the scratch of " + kernel.name());
                        CL.clSetKernelArg(clKernels[k], a, Sizeof.cl_mem, Pointer.to(scratch[k]));
                        continue;
                    }
                    if (arg.equals(Kernel.ERRORS)) {
                        ByteBuffer words = direct(12);
                        errorWords[k] = words.asIntBuffer();
                        errorPtr[k] = Pointer.to(words);
                        errors[k] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE | (zeroCopy ? hostFlag : CL.CL_MEM_COPY_HOST_PTR), 12,
                                errorPtr[k], "the error words of " + kernel.name());
                    }
                    CL.clSetKernelArg(clKernels[k], a, Sizeof.cl_mem, Pointer.to(arg.equals(Kernel.ERRORS) ? errors[k] : buffer(arg, weights)));
                }
            }
            fill(0, Math.max(layout.arenaBytes, 4));
            lastRead = lastRead();
            lastError = lastError();
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

    /** Native-order off-heap memory: what a non-blocking transfer may read or write while Java runs on. */
    private static ByteBuffer direct(long bytes) {
        if (bytes > Integer.MAX_VALUE - 8192) throw new KilnException("a graph input or output of " + bytes + " bytes is too large for one host transfer");
        // page-aligned, so that a device using it as CL_MEM_USE_HOST_PTR memory takes it as it is instead of copying
        // (alignedSlice also rounds the end down to a page: hence whole pages plus one)
        int pages = (int) ((Math.max(bytes, 4) + 4095) / 4096);
        return ByteBuffer.allocateDirect((pages + 1) * 4096).alignedSlice(4096).order(ByteOrder.nativeOrder());
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

    /**
     * One run: inputs already checked against the graph's signature, outputs (graph outputs computed
     * by a kernel) written into the caller's tensors of the right shapes.
     */
    void run(Map<String, HostTensor> in, Map<String, HostTensor> out) {
        cl_command_queue q = device.queue();
        long start = profile == null ? 0 : System.nanoTime();
        int step = -1;
        try {
            writeInputs(q, in);
            for (step = 0; step < clKernels.length; step++) {
                zeroBefore(step);
                Kernel k = kernels.get(step);
                if (clKernels[step] == null) continue;
                for (int l = 0; l < k.launches(); l++) {
                    if (launchArg[step] >= 0) CL.clSetKernelArg(clKernels[step], launchArg[step], Sizeof.cl_int, launchIndex[step][l]);
                    CL.clEnqueueNDRangeKernel(q, clKernels[step], k.global().length, null, k.global(), k.local(), 0, null,
                            events == null ? null : (events[step][l] = new cl_event()));
                }
            }
            step = clKernels.length;
            if (zeroCopy) CL.clEnqueueReadBuffer(q, arena, true, 0, 4, marker, 0, null, null);
            else readBack(q);
            if (profile != null) profile.add(events, System.nanoTime() - start);
            checkErrors();
            for (int i = 0; i < outputs.length; i++) {
                HostTensor t = out.get(layout.outputBuffers.get(i));
                if (t.size() > 0) outStage[i].get(0, t.data());
            }
        } catch (CLException e) {
            String where = step >= 0 && step < kernels.size() ? "kernel " + kernels.get(step).name() + " for " + kernels.get(step).node().describe()
                    : "transferring inputs or outputs (or running a kernel, since the run is waited for only at its end)";
            if (ClObjects.isOutOfMemory(e))
                throw ClObjects.outOfMemory(device, "running " + where, totalBytes(), CL.stringFor_errorCode(e.getStatus()), e);
            throw new KilnException("OpenCL failed " + (where.startsWith("kernel") ? "running " : "") + where + " on "
                    + device.info().describe() + ": " + e.getMessage(), e);
        }
    }

    /** Zeroes the arena ranges due before the inputs, then puts the inputs where the kernels read them. */
    private void writeInputs(cl_command_queue q, Map<String, HostTensor> in) {
        if (zeroCopy) {
            for (DeviceLayout.ZeroFill z : fillsBefore[0])
                for (long f = z.offsetBytes() / 4, end = f + z.bytes() / 4; f < end; f++) arenaHost.put((int) f, 0f);
        } else {
            zeroBefore(-1);
        }
        for (int i = 0; i < haloStage.length; i++) writeHaloed(i, in.get(layout.haloedInputs.get(i).name()).data());
        for (int i = 0; i < inputs.length; i++) {
            float[] d = in.get(layout.inputBuffers.get(i)).data();
            if (d.length == 0) continue;
            inStage[i].put(0, d);
            if (!zeroCopy) CL.clEnqueueWriteBuffer(q, inputs[i], false, 0, (long) d.length * 4, inPtr[i], 0, null, null);
        }
    }

    /** Reads the error words and outputs into staging; the last read blocks, so the whole run is done when it returns. */
    private void readBack(cl_command_queue q) {
        int last = lastRead;
        for (int k = 0; k < errors.length; k++)
            if (errors[k] != null) CL.clEnqueueReadBuffer(q, errors[k], last < 0 && k == lastError, 0, 12, errorPtr[k], 0, null, null);
        for (int i = 0; i < outputs.length; i++) {
            long bytes = layout.of(layout.outputBuffers.get(i)).bytes();
            if (bytes > 0) CL.clEnqueueReadBuffer(q, outputs[i], i == last, 0, bytes, outPtr[i], 0, null, null);
        }
        if (last < 0 && lastError < 0) CL.clFinish(q);
    }

    /** The output read that waits for the run: the last one with data, or -1 if no output has any. */
    private int lastRead() {
        for (int i = outputs.length - 1; i >= 0; i--) if (layout.of(layout.outputBuffers.get(i)).bytes() > 0) return i;
        return -1;
    }

    private int lastError() {
        for (int k = errors.length - 1; k >= 0; k--) if (errors[k] != null) return k;
        return -1;
    }

    /** Throws for the first kernel (in graph order) that reported bad data, resetting its words for the next run. */
    private void checkErrors() {
        for (int k = 0; k < errors.length; k++) {
            if (errors[k] == null) continue;
            IntBuffer words = errorWords[k];
            int at = 0;
            if (words.get(at) == 0) continue;
            float v = Float.intBitsToFloat(words.get(at + 1));
            int j = words.get(at + 2);
            if (zeroCopy) words.put(at, 0).put(at + 1, 0).put(at + 2, 0);
            else CL.clEnqueueWriteBuffer(device.queue(), errors[k], true, 0, 12, zeroWords, 0, null, null);
            Kernel kernel = kernels.get(k);
            if (!(kernel.node().op() instanceof dev.kiln.ir.op.Gather g))
                throw new KilnException(kernel.node().describe() + ": the kernel reported bad data");
            int extent = layout.graph.typeOf(kernel.node().inputs().getFirst()).dim(g.axis());
            throw new dev.kiln.ir.InvalidIndexException(kernel.node().describe() + ": " + dev.kiln.ir.op.Gather.message(v, extent, j));
        }
    }

    private void zeroBefore(int node) {
        for (DeviceLayout.ZeroFill z : fillsBefore[node + 1]) fill(z.offsetBytes(), z.bytes());
    }

    private void fill(long offset, long bytes) {
        CL.clEnqueueFillBuffer(device.queue(), arena, zero, 4, offset, bytes, 0, null, null);
    }

    /** Writes an [N,C,H,W] input into its haloed arena slot, row by row, leaving the zero border. */
    private void writeHaloed(int i, float[] data) {
        if (data.length == 0) return;
        HaloWrite w = haloWrites[i];
        if (zeroCopy) {   // row by row into the arena's own memory
            int width = (int) (w.region[0] / 4), rows = (int) w.region[1], planes = (int) w.region[2];
            int row = (int) (w.rowPitch / 4), plane = (int) (w.slicePitch / 4), at = (int) (w.origin[0] / 4);
            for (int p = 0; p < planes; p++)
                for (int y = 0; y < rows; y++) arenaHost.put(at + p * plane + y * row, data, (p * rows + y) * width, width);
            return;
        }
        haloStage[i].put(0, data);
        CL.clEnqueueWriteBufferRect(device.queue(), arena, false, w.origin, HaloWrite.HOST_ORIGIN, w.region, w.rowPitch, w.slicePitch,
                w.hostRowPitch, w.hostSlicePitch, haloPtr[i], 0, null, null);
    }

    /** The rectangle a haloed input is written into: its rows at their place inside the border (bytes). */
    private record HaloWrite(long[] origin, long[] region, long rowPitch, long slicePitch, long hostRowPitch, long hostSlicePitch) {
        static final long[] HOST_ORIGIN = {0, 0, 0};

        static HaloWrite of(DeviceLayout.Storage s) {
            int[] d = s.type().shape().dims(), halo = s.halo();
            long wp = d[3] + halo[1] + halo[3], hp = d[2] + halo[0] + halo[2];
            long origin = (s.offset() + halo[0] * wp + halo[1]) * 4;
            return new HaloWrite(new long[]{origin, 0, 0}, new long[]{d[3] * 4L, d[2], (long) d[0] * d[1]}, wp * 4, hp * wp * 4,
                    d[3] * 4L, (long) d[2] * d[3] * 4);
        }
    }

    @Override public void close() {
        // a run that failed halfway may have commands in flight that use this set's host memory, which the GC frees with it
        if (zeroCopy) {
            try {
                CL.clFinish(device.queue());
            } catch (CLException ignored) {
                // the queue already failed; there is nothing left to wait for, and the buffers must still be released
            }
        }
        for (int k = 0; k < clKernels.length; k++) { ClObjects.release(clKernels[k]); clKernels[k] = null; }
        for (int i = 0; i < inputs.length; i++) { ClObjects.release(inputs[i]); inputs[i] = null; }
        for (int i = 0; i < outputs.length; i++) { ClObjects.release(outputs[i]); outputs[i] = null; }
        for (int k = 0; k < errors.length; k++) { ClObjects.release(errors[k]); errors[k] = null; }
        for (int k = 0; k < scratch.length; k++) { ClObjects.release(scratch[k]); scratch[k] = null; }
        ClObjects.release(arena);
        arena = null;
    }
}
