package dev.kiln.backend.opencl;

/**
 * What the kernel generators may assume about a device, from its CL_DEVICE_* queries. Every
 * work-group size, tile and vector width is derived from these and the shapes, never fixed
 * for one device.
 *
 * @param maxWorkGroupSize      CL_DEVICE_MAX_WORK_GROUP_SIZE
 * @param maxWorkItemSizes      CL_DEVICE_MAX_WORK_ITEM_SIZES, per dimension
 * @param localMemBytes         CL_DEVICE_LOCAL_MEM_SIZE
 * @param preferredVectorWidth  CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT
 * @param computeUnits          CL_DEVICE_MAX_COMPUTE_UNITS
 * @param maxAllocBytes         CL_DEVICE_MAX_MEM_ALLOC_SIZE
 * @param globalMemBytes        CL_DEVICE_GLOBAL_MEM_SIZE
 * @param type                  CL_DEVICE_TYPE: picks the GEMM kernel family (see {@link GemmKernel#gemm})
 * @param tuned                 GEMM tiles measured on this device (empty unless compiled with tuning)
 */
record DeviceLimits(int maxWorkGroupSize, long[] maxWorkItemSizes, long localMemBytes, int preferredVectorWidth,
                    int computeUnits, long maxAllocBytes, long globalMemBytes, DeviceInfo.Type type, TunedTiles tuned) {

    /** A device of unknown type (tests that describe a device by its limits alone): GPU-style kernels, no tuned tiles. */
    DeviceLimits(int maxWorkGroupSize, long[] maxWorkItemSizes, long localMemBytes, int preferredVectorWidth,
                 int computeUnits, long maxAllocBytes, long globalMemBytes) {
        this(maxWorkGroupSize, maxWorkItemSizes, localMemBytes, preferredVectorWidth, computeUnits, maxAllocBytes, globalMemBytes,
                DeviceInfo.Type.OTHER, TunedTiles.NONE);
    }

    /** The largest work-group the generators aim for: big enough to share tiles, small enough for any GPU. */
    int targetWorkGroupSize() { return Math.max(1, Math.min(maxWorkGroupSize, 256)); }

    /** Largest size allowed along one NDRange dimension of a work-group. */
    int maxItems(int dim) {
        long m = dim < maxWorkItemSizes.length ? maxWorkItemSizes[dim] : 1;
        return (int) Math.min(m, maxWorkGroupSize);
    }

    /** Local memory one kernel may use: half the device's, leaving room for the implementation. */
    long localBudgetBytes() { return localMemBytes / 2; }

    /**
     * The float vector width for tiles: what the device prefers, but at least 4 (wide loads pay
     * off even where scalar code is "preferred", as on most GPUs) and at most 16 (OpenCL's widest).
     */
    int tileVectorWidth() { return Integer.highestOneBit(Math.max(4, Math.min(16, preferredVectorWidth))); }

    /** The same device with a smaller work-group ceiling: used to rebuild kernels a device refuses. */
    DeviceLimits withMaxWorkGroupSize(int n) {
        return new DeviceLimits(n, maxWorkItemSizes, localMemBytes, preferredVectorWidth, computeUnits, maxAllocBytes, globalMemBytes, type, tuned);
    }

    DeviceLimits withType(DeviceInfo.Type t) {
        return new DeviceLimits(maxWorkGroupSize, maxWorkItemSizes, localMemBytes, preferredVectorWidth, computeUnits, maxAllocBytes, globalMemBytes, t, tuned);
    }

    DeviceLimits withTuned(TunedTiles t) {
        return new DeviceLimits(maxWorkGroupSize, maxWorkItemSizes, localMemBytes, preferredVectorWidth, computeUnits, maxAllocBytes, globalMemBytes, type, t);
    }

    @Override public String toString() {
        return type + ", max work-group " + maxWorkGroupSize + ", work-item sizes " + java.util.Arrays.toString(maxWorkItemSizes)
                + ", local memory " + localMemBytes + " B, float vector width " + preferredVectorWidth
                + ", " + computeUnits + " compute units, max allocation " + maxAllocBytes + " B, global memory " + globalMemBytes + " B";
    }
}
