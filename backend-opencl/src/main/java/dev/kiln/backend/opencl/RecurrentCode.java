package dev.kiln.backend.opencl;

import dev.kiln.ir.UnsupportedOpException;

/** What the LSTM and GRU kernels share. */
final class RecurrentCode {
    private RecurrentCode() {}

    /** Between the phases of a step: local gates and h, and the result rows the next layer reads. */
    static final String BARRIER = "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);\n";

    /**
     * The work-group size for one batch element: one item per gate row (rows = gates·H), within the
     * device's limits; refuses a hidden size whose local arrays (localFloats) do not fit.
     */
    static int workGroup(KernelRequest r, int hidden, long localFloats, long rows) {
        DeviceLimits l = r.limits();
        if (4L * localFloats > l.localBudgetBytes())
            throw new UnsupportedOpException(r.node().describe() + ": hidden size " + hidden
                    + " needs more local memory than the device has (" + l.localMemBytes() + " B)");
        return Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(rows));
    }

    /** The sequence as [batch, step, feature], whichever way it is stored. */
    static View logical(View stored, boolean batchFirst) {
        return batchFirst ? stored : stored.permute(new int[]{1, 0, 2});
    }
}
