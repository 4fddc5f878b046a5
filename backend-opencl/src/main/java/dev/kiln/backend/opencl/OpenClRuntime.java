package dev.kiln.backend.opencl;

import dev.kiln.ir.BackendUnavailableException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The OpenCL installation of this JVM: loads the library through JOCL (once), lists platforms
 * and devices with their limits, and hands out one {@link DeviceContext} (context, queue,
 * program cache) per device, shared by every executable for the life of the JVM.
 *
 * <p>Nothing here lets a native-loading error escape: a missing libOpenCL (UnsatisfiedLinkError
 * from JOCL's static initialiser, NoClassDefFoundError after) or an ICD loader without any
 * platform (CL_PLATFORM_NOT_FOUND_KHR) becomes a {@link BackendUnavailableException} that says
 * what to install.
 */
final class OpenClRuntime {
    private OpenClRuntime() {}

    static final String PACKAGES = "ocl-icd-libopencl1 pocl-opencl-icd";
    static final String INSTALL_HINT = "Install an OpenCL runtime: on Debian/Ubuntu `apt-get install " + PACKAGES
            + "` (PoCL runs kernels on any CPU), or your GPU vendor's OpenCL driver.";

    /** The outcome of looking for OpenCL: the devices found, or why there are none. */
    private record Probe(List<DeviceInfo> devices, String problem, Throwable cause) {}

    private static Probe probe;
    private static final Map<String, DeviceContext> CONTEXTS = new HashMap<>();

    /** Whether at least one OpenCL device is usable. Never throws. */
    static boolean isAvailable() {
        try {
            return probe().problem() == null;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Why no OpenCL device is usable (what to install), or empty when one is. Never throws. */
    static java.util.Optional<String> problem() {
        try {
            return java.util.Optional.ofNullable(probe().problem());
        } catch (Throwable t) {
            return java.util.Optional.of("OpenCL backend unavailable: " + t + ". " + INSTALL_HINT);
        }
    }

    /** Every usable device, platforms in order; BackendUnavailableException (with the install hint) if none. */
    static List<DeviceInfo> devices() {
        Probe p = probe();
        if (p.problem() != null) throw new BackendUnavailableException(p.problem(), p.cause());
        return p.devices();
    }

    /** The shared context and queue of a device, created on first use. */
    static synchronized DeviceContext context(DeviceInfo device) {
        String key = device.platformIndex() + ":" + device.deviceIndex();
        DeviceContext c = CONTEXTS.get(key);
        if (c == null) {
            c = DeviceContext.create(device);
            CONTEXTS.put(key, c);
        }
        return c;
    }

    /**
     * Whether kernels on this device work in host memory, so a CL_MEM_USE_HOST_PTR buffer is the
     * host's memory itself (RunBuffers then transfers nothing): a CPU device that reports
     * CL_DEVICE_HOST_UNIFIED_MEMORY, as PoCL does. An integrated GPU also reports unified memory
     * but may still keep its own copy of such a buffer, so only CPU devices qualify.
     * -Dkiln.opencl.zero-copy=false turns it off (tests run both paths).
     */
    static boolean sharesHostMemory(DeviceInfo device) {
        if (!Boolean.parseBoolean(System.getProperty("kiln.opencl.zero-copy", "true")) || device.type() != DeviceInfo.Type.CPU) return false;
        return deviceInt(device.id(), CL.CL_DEVICE_HOST_UNIFIED_MEMORY) != 0;
    }

    private static synchronized Probe probe() {
        if (probe == null) probe = look();
        return probe;
    }

    /**
     * JOCL logs its own failure to load a library (SEVERE, with nested stack traces) on stderr; Kiln
     * explains a missing runtime once, in its own words, so JOCL's logger is kept quiet. Held here
     * because java.util.logging keeps loggers only weakly.
     */
    private static final java.util.logging.Logger JOCL_LOG = java.util.logging.Logger.getLogger("org.jocl");

    private static Probe look() {
        JOCL_LOG.setLevel(java.util.logging.Level.OFF);
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            CL.clGetPlatformIDs(0, null, count);
            if (count[0] == 0) return noPlatform(null);
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            CL.clGetPlatformIDs(platforms.length, platforms, null);
            List<DeviceInfo> devices = new ArrayList<>();
            for (int p = 0; p < platforms.length; p++) devices.addAll(devicesOf(p, platforms[p]));
            if (devices.isEmpty())
                return new Probe(List.of(), "OpenCL backend unavailable: " + platforms.length
                        + " OpenCL platform(s) found but none has a usable device. " + INSTALL_HINT, null);
            return new Probe(List.copyOf(devices), null, null);
        } catch (LinkageError e) {
            return new Probe(List.of(), "OpenCL backend unavailable: the OpenCL library (libOpenCL.so.1) could not be loaded ("
                    + e.getMessage() + "). " + INSTALL_HINT, e);
        } catch (CLException e) {
            if (e.getStatus() == CL.CL_PLATFORM_NOT_FOUND_KHR) return noPlatform(e);
            return new Probe(List.of(), "OpenCL backend unavailable: listing OpenCL platforms failed with "
                    + e.getMessage() + ". " + INSTALL_HINT, e);
        } catch (RuntimeException e) {
            return new Probe(List.of(), "OpenCL backend unavailable: " + e + ". " + INSTALL_HINT, e);
        }
    }

    private static Probe noPlatform(Throwable cause) {
        return new Probe(List.of(), "OpenCL backend unavailable: the OpenCL library is present but no OpenCL platform"
                + " (driver) is installed (CL_PLATFORM_NOT_FOUND_KHR; the ICD loader found nothing in /etc/OpenCL/vendors"
                + " or OCL_ICD_VENDORS). " + INSTALL_HINT, cause);
    }

    private static List<DeviceInfo> devicesOf(int platformIndex, cl_platform_id platform) {
        String platformName = platformString(platform, CL.CL_PLATFORM_NAME);
        int[] count = new int[1];
        try {
            CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, 0, null, count);
        } catch (CLException e) {
            if (e.getStatus() == CL.CL_DEVICE_NOT_FOUND) return List.of();
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[count[0]];
        CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null);
        List<DeviceInfo> out = new ArrayList<>();
        for (int d = 0; d < ids.length; d++) {
            cl_device_id id = ids[d];
            if (deviceInt(id, CL.CL_DEVICE_AVAILABLE) == 0 || deviceInt(id, CL.CL_DEVICE_COMPILER_AVAILABLE) == 0) continue;
            out.add(new DeviceInfo(platformIndex, platformName, d, deviceString(id, CL.CL_DEVICE_NAME).strip(), typeOf(id),
                    deviceString(id, CL.CL_DEVICE_VERSION), deviceString(id, CL.CL_DRIVER_VERSION), limitsOf(id), platform, id));
        }
        return out;
    }

    private static DeviceInfo.Type typeOf(cl_device_id id) {
        long t = deviceLong(id, CL.CL_DEVICE_TYPE);
        if ((t & CL.CL_DEVICE_TYPE_GPU) != 0) return DeviceInfo.Type.GPU;
        if ((t & CL.CL_DEVICE_TYPE_CPU) != 0) return DeviceInfo.Type.CPU;
        if ((t & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0) return DeviceInfo.Type.ACCELERATOR;
        return DeviceInfo.Type.OTHER;
    }

    private static DeviceLimits limitsOf(cl_device_id id) {
        int dims = deviceInt(id, CL.CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS);
        long[] sizes = new long[dims];
        CL.clGetDeviceInfo(id, CL.CL_DEVICE_MAX_WORK_ITEM_SIZES, (long) Sizeof.size_t * dims, Pointer.to(sizes), null);
        long[] wg = new long[1];
        CL.clGetDeviceInfo(id, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(wg), null);
        return new DeviceLimits((int) Math.min(wg[0], 1 << 20), sizes, deviceLong(id, CL.CL_DEVICE_LOCAL_MEM_SIZE),
                deviceInt(id, CL.CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT), deviceInt(id, CL.CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceLong(id, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE), deviceLong(id, CL.CL_DEVICE_GLOBAL_MEM_SIZE)).withType(typeOf(id));
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        CL.clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        CL.clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        CL.clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    private static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
