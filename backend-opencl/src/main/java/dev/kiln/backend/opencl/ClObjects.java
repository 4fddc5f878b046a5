package dev.kiln.backend.opencl;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every OpenCL object Kiln creates or releases goes through here. JOCL objects have no
 * cleaner, so a forgotten release is a native leak; the live counts let tests prove that
 * closing an executable gives back every buffer, kernel and program it took. Allocation
 * failures become a clear "device out of memory" error.
 */
final class ClObjects {
    private ClObjects() {}

    enum Kind { CONTEXT, QUEUE, PROGRAM, KERNEL, BUFFER }

    private static final Map<Kind, AtomicLong> LIVE = new EnumMap<>(Kind.class);
    static {
        for (Kind k : Kind.values()) LIVE.put(k, new AtomicLong());
    }

    /** How many objects of this kind are created and not yet released, in this JVM. */
    static long live(Kind kind) { return LIVE.get(kind).get(); }

    static void created(Kind kind) { LIVE.get(kind).incrementAndGet(); }

    /** A device buffer; a failed allocation names what it was for, the size and the device's limits. */
    static cl_mem buffer(DeviceContext device, long flags, long bytes, Pointer host, String what) {
        long size = Math.max(bytes, 4);
        DeviceLimits l = device.info().limits();
        if (size > l.maxAllocBytes())
            throw outOfMemory(device, what, size, "larger than the device's largest allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE "
                    + MemoryPlan.bytes(l.maxAllocBytes()) + ")", null);
        try {
            cl_mem m = CL.clCreateBuffer(device.context(), flags, size, host, null);
            created(Kind.BUFFER);
            return m;
        } catch (CLException e) {
            if (isOutOfMemory(e)) throw outOfMemory(device, what, size, CL.stringFor_errorCode(e.getStatus()), e);
            throw new KilnException("OpenCL could not create " + what + " (" + MemoryPlan.bytes(size) + ") on "
                    + device.info().describe() + ": " + e.getMessage(), e);
        }
    }

    static boolean isOutOfMemory(CLException e) {
        int s = e.getStatus();
        return s == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL.CL_OUT_OF_RESOURCES || s == CL.CL_OUT_OF_HOST_MEMORY
                || s == CL.CL_INVALID_BUFFER_SIZE;
    }

    static KilnException outOfMemory(DeviceContext device, String what, long bytes, String reason, Throwable cause) {
        DeviceLimits l = device.info().limits();
        return new KilnException("OpenCL device out of memory: " + what + " needs " + MemoryPlan.bytes(bytes) + " on "
                + device.info().describe() + ", " + reason + "; the device has " + MemoryPlan.bytes(l.globalMemBytes())
                + " of global memory. Use smaller input shapes or another device (option \"device\" / KILN_OPENCL_DEVICE).", cause);
    }

    static void release(cl_mem m) {
        if (m == null) return;
        CL.clReleaseMemObject(m);
        LIVE.get(Kind.BUFFER).decrementAndGet();
    }

    static void release(cl_kernel k) {
        if (k == null) return;
        CL.clReleaseKernel(k);
        LIVE.get(Kind.KERNEL).decrementAndGet();
    }

    static void release(cl_program p) {
        if (p == null) return;
        CL.clReleaseProgram(p);
        LIVE.get(Kind.PROGRAM).decrementAndGet();
    }

    static void retain(cl_program p) {
        CL.clRetainProgram(p);
        created(Kind.PROGRAM);
    }

    static void release(cl_command_queue q) {
        if (q == null) return;
        CL.clReleaseCommandQueue(q);
        LIVE.get(Kind.QUEUE).decrementAndGet();
    }

    static void release(cl_context c) {
        if (c == null) return;
        CL.clReleaseContext(c);
        LIVE.get(Kind.CONTEXT).decrementAndGet();
    }
}
