package dev.kiln.backend.opencl;

import dev.kiln.ir.op.LayerNorm;

import java.util.Arrays;

/**
 * LayerNorm: one work-group per normalised row, its work-items striding over the row, each sum
 * reduced as a tree in local memory (as {@link SoftmaxKernel}). The mean is kept as m0 + delta
 * (the plain sum's mean, then the mean of x − m0), so rows with a large mean lose nothing to its
 * f32 rounding, and the variance is the mean square of x − m0 − delta, as the CPU kernel does.
 */
final class LayerNormKernel {
    private LayerNormKernel() {}

    static Kernel generate(KernelRequest r, LayerNorm op) {
        View x = r.in(0), y = r.out();
        int rank = x.rank(), axis = op.axis();
        int[] rowDims = Arrays.copyOfRange(x.dims(), 0, axis), blockDims = Arrays.copyOfRange(x.dims(), axis, rank);
        long rows = 1, len = 1;
        for (int d : rowDims) rows *= d;
        for (int d : blockDims) len *= d;
        DeviceLimits l = r.limits();
        int wg = (int) Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(len));
        long[] local = {wg};
        boolean scale = r.node().inputs().size() > 1, bias = r.node().inputs().size() > 2;

        StringBuilder b = new StringBuilder(r.header(local)).append(" {\n");
        b.append("    const int row = get_group_id(0), lid = get_local_id(0);\n");
        String[] rowIdx = Code.declareUnravel(b, "    ", "r", "row", rowDims);
        b.append("    __local float red[").append(wg).append("];\n");
        String[] pass = {"acc += e;", "acc += e - m0;", "acc += (e - m0 - delta) * (e - m0 - delta);"};
        String[] after = {"const float m0 = acc / " + len + ".0f;", "const float delta = acc / " + len + ".0f;",
                "const float inv = 1.0f / sqrt(fmax(acc / " + len + ".0f, 0.0f) + " + Code.lit(op.eps()) + ");"};
        for (int i = 0; i < 3; i++) {
            b.append("    {\n    float acc = 0.0f;\n");
            loop(b, x, rowIdx, blockDims, wg, len, "        const float e = %x;\n        " + pass[i] + "\n", null, null);
            SoftmaxKernel.reduce(b, wg, "acc", "red[lid] + red[lid + s]");
            b.append("    ").append(after[i].replace("const float ", "")).append("\n    }\n");
        }
        // the statistics above assign to these, declared first so they outlive their blocks
        int at = b.indexOf("    __local float red[");
        b.insert(at, "    float m0, delta, inv;\n");
        String value = "(%x - m0 - delta) * inv" + (scale ? " * %g" : "") + (bias ? " + %b" : "");
        loop(b, x, rowIdx, blockDims, wg, len, "        %y = " + value + ";\n", y, r);
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{rows * wg}, local);
    }

    /** for k over the row (strided by the work-group): the body with %x, %y, %g, %b replaced by the element's accesses. */
    private static void loop(StringBuilder b, View x, String[] rowIdx, int[] blockDims, int wg, long len, String body, View y, KernelRequest r) {
        b.append("    for (int k = lid; k < ").append(len).append("; k += ").append(wg).append(") {\n");
        String[] blockIdx = Code.declareUnravel(b, "        ", "c", "k", blockDims);
        String[] idx = new String[rowIdx.length + blockIdx.length];
        System.arraycopy(rowIdx, 0, idx, 0, rowIdx.length);
        System.arraycopy(blockIdx, 0, idx, rowIdx.length, blockIdx.length);
        String s = body.replace("%x", x.at(idx));
        if (y != null) s = s.replace("%y", y.at(idx));
        if (r != null && r.node().inputs().size() > 1) s = s.replace("%g", r.in(1).at(blockIdx));
        if (r != null && r.node().inputs().size() > 2) s = s.replace("%b", r.in(2).at(blockIdx));
        b.append(s).append("    }\n");
    }
}
