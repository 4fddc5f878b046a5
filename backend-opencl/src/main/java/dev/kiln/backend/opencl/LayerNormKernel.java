package dev.kiln.backend.opencl;

import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;

import java.util.Arrays;

/**
 * LayerNorm of x, or of x + r (ResidualLayerNorm): one work-group per normalised row, its
 * work-items striding over the row. One read of the row gives both moments of d = v − k, k the
 * row's first element (the sums reduced as trees in local memory, as {@link SoftmaxKernel}); the
 * mean is k + m1 and the variance E[d²] − m1², whose cancellation the shift bounds (m1² / var ≤
 * LEN − 1 whatever the row's mean), as the CPU kernel does. The output is (v − k − m1)·inv.
 */
final class LayerNormKernel {
    private LayerNormKernel() {}

    static Kernel generate(KernelRequest r, LayerNorm op) { return generate(r, op.axis(), op.eps(), false); }

    static Kernel generate(KernelRequest r, ResidualLayerNorm op) { return generate(r, op.axis(), op.eps(), true); }

    private static Kernel generate(KernelRequest r, int axis, float eps, boolean residual) {
        View x = r.in(0), y = r.out();
        int rank = x.rank();
        int[] rowDims = Arrays.copyOfRange(x.dims(), 0, axis), blockDims = Arrays.copyOfRange(x.dims(), axis, rank);
        long rows = 1, len = 1;
        for (int d : rowDims) rows *= d;
        for (int d : blockDims) len *= d;
        DeviceLimits l = r.limits();
        int wg = (int) Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(len));
        long[] local = {wg};
        int first = residual ? 2 : 1, affine = r.node().inputs().size() - first;

        StringBuilder b = new StringBuilder(r.header(local)).append(" {\n");
        b.append("    const int row = get_group_id(0), lid = get_local_id(0);\n");
        String[] rowIdx = Code.declareUnravel(b, "    ", "r", "row", rowDims);
        b.append("    __local float red[").append(wg).append("];\n");
        String[] firstIdx = Arrays.copyOf(rowIdx, rank);
        Arrays.fill(firstIdx, rowIdx.length, rank, "0");
        String v = residual ? "(%x + %r)" : "%x";
        b.append("    const float k = ").append(v.replace("%x", x.at(firstIdx)).replace("%r", residual ? r.in(1).at(firstIdx) : "")).append(";\n");
        b.append("    float s1 = 0.0f, s2 = 0.0f;\n");
        loop(b, r, rowIdx, blockDims, wg, len, "        const float d = " + v + " - k;\n        s1 += d;\n        s2 = fma(d, d, s2);\n", false, first);
        SoftmaxKernel.reduce(b, wg, "s1", "red[lid] + red[lid + s]");
        SoftmaxKernel.reduce(b, wg, "s2", "red[lid] + red[lid + s]");
        b.append("    const float m1 = s1 / ").append(len).append(".0f;\n");
        // not fmax, which would turn the NaN of an infinite row (∞ − ∞) into 0 and the row into ±∞: the reference gives NaN
        b.append("    const float var = s2 / ").append(len).append(".0f - m1 * m1;\n");
        b.append("    const float inv = 1.0f / sqrt((var < 0.0f ? 0.0f : var) + ").append(Code.lit(eps)).append(");\n");
        String value = "(" + v + " - k - m1) * inv" + (affine > 0 ? " * %g" : "") + (affine > 1 ? " + %b" : "");
        loop(b, r, rowIdx, blockDims, wg, len, "        %y = " + value + ";\n", true, first);
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{rows * wg}, local);
    }

    /** for q over the row (strided by the work-group): the body with %x, %r, %y, %g, %b replaced by the element's accesses. */
    private static void loop(StringBuilder b, KernelRequest r, String[] rowIdx, int[] blockDims, int wg, long len, String body,
                             boolean writes, int first) {
        b.append("    for (int q = lid; q < ").append(len).append("; q += ").append(wg).append(") {\n");
        String[] blockIdx = Code.declareUnravel(b, "        ", "c", "q", blockDims);
        String[] idx = new String[rowIdx.length + blockIdx.length];
        System.arraycopy(rowIdx, 0, idx, 0, rowIdx.length);
        System.arraycopy(blockIdx, 0, idx, rowIdx.length, blockIdx.length);
        int n = r.node().inputs().size();
        String s = body.replace("%x", r.in(0).at(idx));
        if (first == 2) s = s.replace("%r", r.in(1).at(idx));
        if (writes) s = s.replace("%y", r.out().at(idx));
        if (writes && n > first) s = s.replace("%g", r.in(first).at(blockIdx));
        if (writes && n > first + 1) s = s.replace("%b", r.in(first + 1).at(blockIdx));
        b.append(s).append("    }\n");
    }
}
