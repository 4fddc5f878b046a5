package dev.kiln.backend.opencl;

import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device as found on this machine: where it is (platform and device index), what it
 * is, and its limits. The handles are null in tests that only exercise device selection.
 */
record DeviceInfo(int platformIndex, String platformName, int deviceIndex, String name, Type type,
                  String version, String driverVersion, DeviceLimits limits,
                  cl_platform_id platform, cl_device_id id) {

    enum Type { GPU, CPU, ACCELERATOR, OTHER }

    /** "0:1 NVIDIA CUDA / NVIDIA GeForce RTX 3060 (GPU)": how errors and listings name a device. */
    String describe() { return platformIndex + ":" + deviceIndex + " " + platformName + " / " + name + " (" + type + ")"; }

    /** Identifies the device and its compiler for the program cache: binaries are valid only for these. */
    String cacheKey() { return platformName + "|" + name + "|" + version + "|" + driverVersion; }
}
