package dev.kiln.backend.opencl;

/** What the LSTM and GRU kernels share. */
final class RecurrentCode {
    private RecurrentCode() {}

    /** Between the phases of a step: local gates and h, and the result rows the next layer reads. */
    static final String BARRIER = "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);\n";

    /** The sequence as [batch, step, feature], whichever way it is stored. */
    static View logical(View stored, boolean batchFirst) {
        return batchFirst ? stored : stored.permute(new int[]{1, 0, 2});
    }
}
