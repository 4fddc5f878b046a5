package dev.kiln.backend.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The device time of each kernel of an executable, from OpenCL queue profiling events, when
 * -Dkiln.opencl.profile=true (the queue is then created with CL_QUEUE_PROFILING_ENABLE, see
 * {@link DeviceContext}). Every run records one event per launch; after the run's single wait
 * their START..END times are added here. close() prints the means, slowest first, in the shape
 * of the CPU backend's -Dkiln.cpu.profile=true report, plus the host's wall time per call, so
 * the part that is launch and transfer overhead shows as the difference.
 *
 * <p>Means over every call, not medians over recent ones as on the CPU: device times come from
 * the driver's clock and do not include JIT warm-up, so the first calls are not outliers.
 */
final class KernelProfile {
    static final boolean ENABLED = Boolean.getBoolean("kiln.opencl.profile");

    private final String graphName;
    private final List<Kernel> kernels;
    private final long[] deviceNanos;
    private long calls, wallNanos;
    private final long[] time = new long[1];
    private final Pointer timePtr = Pointer.to(time);

    KernelProfile(String graphName, List<Kernel> kernels) {
        this.graphName = graphName;
        this.kernels = kernels;
        this.deviceNanos = new long[kernels.size()];
    }

    /** Adds one finished run: per kernel, the events of its launches (null where it launched nothing), released here. */
    synchronized void add(cl_event[][] events, long wall) {
        for (int i = 0; i < events.length; i++)
            for (int l = 0; l < events[i].length; l++) {
                cl_event e = events[i][l];
                if (e == null) continue;
                deviceNanos[i] += read(e, CL.CL_PROFILING_COMMAND_END) - read(e, CL.CL_PROFILING_COMMAND_START);
                CL.clReleaseEvent(e);
                events[i][l] = null;
            }
        calls++;
        wallNanos += wall;
    }

    private long read(cl_event e, int what) {
        CL.clGetEventProfilingInfo(e, what, Sizeof.cl_ulong, timePtr, null);
        return time[0];
    }

    /** The report: each kernel's mean device time per call, slowest first, named after its IR node. */
    synchronized String report() {
        if (calls == 0) return "kiln opencl profile of @" + graphName + ": no profiled calls\n";
        long total = 0;
        for (long n : deviceNanos) total += n;
        double sum = total / 1e3 / calls, wall = wallNanos / 1e3 / calls;
        StringBuilder sb = new StringBuilder(String.format("kiln opencl profile of @%s, means of %d calls: kernels %.1f µs of device time,"
                + " %.1f µs wall per call on the host (the rest is transfers, launches and waiting)%n", graphName, calls, sum, wall));
        long all = Math.max(1, total);
        IntStream.range(0, kernels.size()).boxed().filter(i -> !kernels.get(i).isEmpty())
                .sorted((a, b) -> Long.compare(deviceNanos[b], deviceNanos[a]))
                .forEach(i -> sb.append(String.format("  %9.2f  %5.1f%%  %s [global %s local %s%s] %s%n", deviceNanos[i] / 1e3 / calls,
                        100.0 * deviceNanos[i] / all, kernels.get(i).name(), java.util.Arrays.toString(kernels.get(i).global()),
                        java.util.Arrays.toString(kernels.get(i).local()), kernels.get(i).launches() > 1 ? ", " + kernels.get(i).launches() + " launches" : "",
                        kernels.get(i).node().describe())));
        return sb.toString();
    }
}
