package dev.kiln.backend.opencl;

import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;

import java.util.ArrayList;
import java.util.List;

/**
 * The ops that read integers as positions: Gather with indices read at run time, and CumSum.
 *
 * <p>A kernel cannot throw, so a Gather reports a bad index (not an integer, or outside
 * [−extent, extent)) through an error buffer of its own ({@link Kernel#ERRORS}, three 32-bit words):
 * the first work-item that meets one claims word 0 with an atomic and writes the index value and
 * its element number; it reads row 0 instead, so nothing outside the tensor is touched. The host
 * checks the buffer after each run and throws InvalidIndexException with the reference's message.
 */
final class IndexKernels {
    private IndexKernels() {}

    static Kernel gather(KernelRequest r, Gather g) {
        View x = r.in(0), ix = r.in(1), out = r.out();
        int axis = g.axis(), kr = ix.rank(), extent = x.dim(axis);
        long count = out.size();
        DeviceLimits l = r.limits();
        int local = (int) Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)),
                Code.pow2AtLeast(Code.ceilDiv(Math.max(count, 1), Math.max(1, l.computeUnits()))));
        long[] loc = {local};
        String header = r.header(loc);
        StringBuilder b = new StringBuilder(header.substring(0, header.length() - 1)).append(", global int* err) {\n");
        b.append("    const int p = get_global_id(0);\n");
        b.append("    if (p >= ").append(count).append(") return;\n");
        String[] idx = Code.declareUnravel(b, "    ", "i", "p", out.dims());
        String[] at = new String[kr];
        System.arraycopy(idx, axis, at, 0, kr);
        b.append("    const float v = ").append(kr == 0 ? ix.at() : ix.at(at)).append(";\n");
        b.append("    int k = 0;\n");
        b.append("    if (v >= -").append(extent).append(".0f && v < ").append(extent).append(".0f && v == floor(v)) {\n");
        b.append("        k = (int) v;\n        if (k < 0) k += ").append(extent).append(";\n");
        b.append("    } else if (atomic_cmpxchg(err, 0, 1) == 0) {\n");
        b.append("        err[1] = as_int(v);\n        err[2] = ").append(kr == 0 ? "0" : ix.isContiguous() ? flat(ix, at) : "-1").append(";\n    }\n");
        String[] src = new String[x.rank()];
        for (int i = 0; i < x.rank(); i++) src[i] = i < axis ? idx[i] : i == axis ? "k" : idx[i - 1 + kr];
        b.append("    ").append(out.at(idx)).append(" = ").append(x.at(src)).append(";\n}\n");
        List<String> args = new ArrayList<>(r.node().inputs());
        args.add(r.node().name());
        args.add(Kernel.ERRORS);
        return new Kernel(r.name(), r.node(), b.toString(), new long[]{Code.roundUp(count, local)}, loc, args);
    }

    /** The element number of index (at...) in a contiguous indices tensor (what the reference's message names). */
    private static String flat(View v, String[] at) {
        return View.contiguous("", 0, v.dims()).index(at);
    }

    /**
     * One work-item per line along the axis, summing in a float as it goes (position ids are small integers).
     * Addressed through the views' strides: a value beside a padded conv is stored with a halo.
     */
    static Kernel cumSum(KernelRequest r, CumSum c) {
        View x = r.in(0), y = r.out();
        int axis = c.axis(), n = x.dim(axis);
        int[] lineDims = new int[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) if (i != axis) lineDims[j++] = x.dim(i);
        long lines = x.size() / Math.max(1, n);
        DeviceLimits l = r.limits();
        int local = (int) Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(Math.max(1, lines)));
        long[] loc = {local};
        StringBuilder b = new StringBuilder(r.header(loc)).append(" {\n");
        b.append("    const int line = get_global_id(0);\n");
        b.append("    if (line >= ").append(lines).append(") return;\n");
        String[] li = Code.declareUnravel(b, "    ", "i", "line", lineDims), idx = new String[x.rank()];
        for (int i = 0, j = 0; i < x.rank(); i++) idx[i] = i == axis ? "q" : li[j++];
        b.append("    float acc = 0.0f;\n");
        b.append("    for (int step = 0; step < ").append(n).append("; step++) {\n");
        b.append("        const int q = ").append(c.reverse() ? (n - 1) + " - step" : "step").append(";\n");
        b.append("        const float v = ").append(x.at(idx)).append(";\n");
        if (c.exclusive()) b.append("        ").append(y.at(idx)).append(" = acc;\n        acc += v;\n");
        else b.append("        acc += v;\n        ").append(y.at(idx)).append(" = acc;\n");
        b.append("    }\n}\n");
        return r.kernel(b.toString(), new long[]{Code.roundUp(lines, local)}, loc);
    }
}
