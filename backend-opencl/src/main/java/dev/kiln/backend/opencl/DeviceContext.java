package dev.kiln.backend.opencl;

import dev.kiln.ir.KilnException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;

/**
 * One device's OpenCL context and in-order command queue, and its program cache. There is one
 * per device for the life of the JVM (see {@link OpenClRuntime#context}); executables share it.
 * OpenCL's enqueue calls are thread-safe, so concurrent runs share the queue; each run works in
 * its own buffers, so their commands may interleave without harm.
 */
final class DeviceContext {
    private final DeviceInfo info;
    private final cl_context context;
    private final cl_command_queue queue;
    private final ProgramCache programs;

    private DeviceContext(DeviceInfo info, cl_context context, cl_command_queue queue) {
        this.info = info;
        this.context = context;
        this.queue = queue;
        this.programs = new ProgramCache(this);
    }

    static DeviceContext create(DeviceInfo info) {
        cl_context context = null;
        try {
            cl_context_properties props = new cl_context_properties();
            props.addProperty(CL.CL_CONTEXT_PLATFORM, info.platform());
            context = CL.clCreateContext(props, 1, new cl_device_id[]{info.id()}, null, null, null);
            ClObjects.created(ClObjects.Kind.CONTEXT);
            @SuppressWarnings("deprecation") // clCreateCommandQueueWithProperties needs OpenCL 2.0; many devices have 1.2
            cl_command_queue queue = CL.clCreateCommandQueue(context, info.id(), KernelProfile.ENABLED ? CL.CL_QUEUE_PROFILING_ENABLE : 0, null);
            ClObjects.created(ClObjects.Kind.QUEUE);
            return new DeviceContext(info, context, queue);
        } catch (CLException e) {
            ClObjects.release(context);
            throw new KilnException("could not create an OpenCL context and queue on " + info.describe() + ": " + e.getMessage(), e);
        }
    }

    DeviceInfo info() { return info; }
    cl_context context() { return context; }
    cl_command_queue queue() { return queue; }
    ProgramCache programs() { return programs; }
}
