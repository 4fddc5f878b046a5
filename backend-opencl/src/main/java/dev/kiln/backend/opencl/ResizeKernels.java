package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Resize;

/**
 * Resize, one work-item per result element, reading the op's own taps (Resize.taps) from
 * __constant tables declared before the kernel: per result row and column the source indices and
 * the weight of the second tap. LINEAR blends as Resize.lerp does (a zero weight takes the first
 * tap alone, so an infinite neighbour with no weight stays out).
 */
final class ResizeKernels {
    private ResizeKernels() {}

    static Kernel resize(KernelRequest r, Resize op) {
        View x = r.in(0);
        int rank = x.rank();
        boolean twoAxes = op.size().size() == 2, linear = op.mode() == Resize.Mode.LINEAR;
        int iw = x.dim(rank - 1), ow = r.out().dim(rank - 1);
        Resize.Taps tx = op.taps(op.size().size() - 1, iw, ow);
        Resize.Taps ty = twoAxes ? op.taps(0, x.dim(2), r.out().dim(2)) : null;
        StringBuilder tables = new StringBuilder();
        String t = r.name() + "_";
        table(tables, t + "x0", tx.i0());
        if (linear) { table(tables, t + "x1", tx.i1()); weights(tables, t + "wx", tx.w()); }
        if (twoAxes) {
            table(tables, t + "y0", ty.i0());
            if (linear) { table(tables, t + "y1", ty.i1()); weights(tables, t + "wy", ty.w()); }
        }
        Kernel k = MapKernels.map(r, (b, idx, p) -> {
            String n = idx[0], c = idx[1], ox = idx[rank - 1], oy = twoAxes ? idx[2] : null;
            b.append("    const int c0 = ").append(t).append("x0[").append(ox).append("];\n");
            String y0 = twoAxes ? t + "y0[" + oy + "]" : null;
            if (!linear) return twoAxes ? x.at(n, c, y0, "c0") : x.at(n, c, "c0");
            b.append("    const int c1 = ").append(t).append("x1[").append(ox).append("];\n");
            b.append("    const float wx = ").append(t).append("wx[").append(ox).append("];\n");
            if (!twoAxes) return lerp(x.at(n, c, "c0"), x.at(n, c, "c1"), "wx");
            b.append("    const int r0 = ").append(y0).append(", r1 = ").append(t).append("y1[").append(oy).append("];\n");
            b.append("    const float wy = ").append(t).append("wy[").append(oy).append("];\n");
            b.append("    const float top = ").append(lerp(x.at(n, c, "r0", "c0"), x.at(n, c, "r0", "c1"), "wx")).append(";\n");
            b.append("    const float bottom = ").append(lerp(x.at(n, c, "r1", "c0"), x.at(n, c, "r1", "c1"), "wx")).append(";\n");
            return "wy == 0.0f ? top : (1.0f - wy) * top + wy * bottom";
        });
        return new Kernel(k.name(), k.node(), tables + k.source(), k.global(), k.local(), k.args());
    }

    private static String lerp(String a, String b, String w) {
        return "(" + w + " == 0.0f ? " + a + " : (1.0f - " + w + ") * " + a + " + " + w + " * " + b + ")";
    }

    private static void table(StringBuilder b, String name, int[] v) {
        b.append("__constant int ").append(name).append("[").append(v.length).append("] = {");
        for (int i = 0; i < v.length; i++) b.append(i > 0 ? ", " : "").append(v[i]);
        b.append("};\n");
    }

    private static void weights(StringBuilder b, String name, double[] v) {
        b.append("__constant float ").append(name).append("[").append(v.length).append("] = {");
        for (int i = 0; i < v.length; i++) b.append(i > 0 ? ", " : "").append(Code.lit((float) v[i]));
        b.append("};\n");
    }
}
