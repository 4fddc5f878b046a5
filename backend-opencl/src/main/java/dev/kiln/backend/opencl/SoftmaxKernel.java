package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Softmax;

/**
 * Softmax along one axis: one work-group per row, its work-items striding over the row, max and
 * sum reduced as a tree in local memory. The work-group is the row length rounded up to a power
 * of two, capped by the device.
 */
final class SoftmaxKernel {
    private SoftmaxKernel() {}

    static Kernel generate(KernelRequest r, Softmax s) {
        View x = r.in(0), y = r.out();
        int axis = s.axis(), len = x.dim(axis), rank = x.rank();
        int[] rowDims = new int[rank - 1];
        for (int i = 0, j = 0; i < rank; i++) if (i != axis) rowDims[j++] = x.dim(i);
        long rows = 1;
        for (int d : rowDims) rows *= d;
        DeviceLimits l = r.limits();
        int wg = Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(len));
        long[] local = {wg};

        StringBuilder b = new StringBuilder(r.header(local)).append(" {\n");
        b.append("    const int row = get_group_id(0), lid = get_local_id(0);\n");
        String[] rowIdx = Code.declareUnravel(b, "    ", "r", "row", rowDims);
        String[] idx = new String[rank];
        for (int i = 0, j = 0; i < rank; i++) idx[i] = i == axis ? "k" : rowIdx[j++];
        String xk = x.at(idx), yk = y.at(idx);
        b.append("    __local float red[").append(wg).append("];\n");
        b.append("    float m = -INFINITY;\n");
        b.append("    for (int k = lid; k < ").append(len).append("; k += ").append(wg).append(") m = fmax(m, ").append(xk).append(");\n");
        reduce(b, wg, "m", "fmax(red[lid], red[lid + s])");
        b.append("    float sum = 0.0f;\n");
        b.append("    for (int k = lid; k < ").append(len).append("; k += ").append(wg).append(") sum += exp(").append(xk).append(" - m);\n");
        reduce(b, wg, "sum", "red[lid] + red[lid + s]");
        b.append("    for (int k = lid; k < ").append(len).append("; k += ").append(wg).append(") ")
                .append(yk).append(" = exp(").append(xk).append(" - m) / sum;\n");
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{rows * wg}, local);
    }

    /** Tree reduction of each work-item's var over the work-group; every item ends with the total in var. */
    static void reduce(StringBuilder b, int wg, String var, String combine) {
        b.append("    red[lid] = ").append(var).append(";\n");
        b.append("    barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("    for (int s = ").append(wg / 2).append("; s > 0; s >>= 1) {\n");
        b.append("        if (lid < s) red[lid] = ").append(combine).append(";\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("    }\n");
        b.append("    ").append(var).append(" = red[0];\n");
        b.append("    barrier(CLK_LOCAL_MEM_FENCE);\n");
    }
}
