package dev.kiln.backend.opencl;

import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;

/**
 * Kernels with one work-item per result element: the element-wise ops, the data movement ops
 * (reshape, transpose, slice, concat: all reads through a {@link View}) and the pools, whose
 * windows are small constant loops. Each work-item unravels its flat index into the result's
 * axes once; the operands' layouts (halos, broadcasting, strides) live in their views.
 */
final class MapKernels {
    private MapKernels() {}

    /** Appends any statements it needs to body and returns the element's value expression. */
    interface Element {
        String value(StringBuilder body, String[] idx, String flat);
    }

    /** out[idx] = element(idx) over the whole result. */
    static Kernel map(KernelRequest r, Element element) {
        View out = r.out();
        long count = out.size();
        DeviceLimits l = r.limits();
        int local = (int) Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)),
                Code.pow2AtLeast(Code.ceilDiv(Math.max(count, 1), Math.max(1, l.computeUnits()))));
        long[] loc = {local};
        StringBuilder b = new StringBuilder(r.header(loc)).append(" {\n");
        b.append("    const int p = get_global_id(0);\n");
        b.append("    if (p >= ").append(count).append(") return;\n");
        String[] idx = Code.declareUnravel(b, "    ", "i", "p", out.dims());
        String v = element.value(b, idx, "p");
        b.append("    ").append(out.at(idx)).append(" = ").append(v).append(";\n}\n");
        return r.kernel(b.toString(), new long[]{Code.roundUp(count, local)}, loc);
    }

    static Kernel unary(KernelRequest r, Unary u) {
        return map(r, (b, idx, p) -> Code.activation(u.act(), r.in(0).at(idx)));
    }

    static Kernel scale(KernelRequest r, Scale s) {
        return map(r, (b, idx, p) -> r.in(0).at(idx) + " * " + Code.lit(s.factor()));
    }

    /**
     * MIN and MAX propagate NaN as the reference does (C's fmin/fmax would return the other
     * operand); a comparison gives 1 or 0, false with NaN as C's float comparisons are.
     */
    static Kernel binary(KernelRequest r, Binary op) {
        int[] od = r.out().dims();
        return map(r, (b, idx, p) -> {
            b.append("    const float a = ").append(r.in(0).broadcastTo(od).at(idx)).append(";\n");
            b.append("    const float b = ").append(r.in(1).broadcastTo(od).at(idx)).append(";\n");
            return switch (op.kind()) {
                case ADD -> "a + b";
                case SUB -> "a - b";
                case MUL -> "a * b";
                case DIV -> "a / b";
                case MIN -> "(isnan(a) || isnan(b)) ? a + b : fmin(a, b)";
                case MAX -> "(isnan(a) || isnan(b)) ? a + b : fmax(a, b)";
                case PRELU -> "a < 0.0f ? a * b : a";
                case EQ -> "a == b ? 1.0f : 0.0f";
                case LT -> "a < b ? 1.0f : 0.0f";
                case LE -> "a <= b ? 1.0f : 0.0f";
                case GT -> "a > b ? 1.0f : 0.0f";
                case GE -> "a >= b ? 1.0f : 0.0f";
            };
        });
    }

    /** cond ≠ 0 picks a (NaN is non-zero), else b; the three broadcast to the result. */
    static Kernel where(KernelRequest r) {
        int[] od = r.out().dims();
        return map(r, (b, idx, p) -> "(" + r.in(0).broadcastTo(od).at(idx) + " != 0.0f) ? " + r.in(1).broadcastTo(od).at(idx)
                + " : " + r.in(2).broadcastTo(od).at(idx));
    }

    /** (x − mean[c]) · gamma[c] / sqrt(var[c] + eps) + beta[c], with c the axis-1 index. */
    static Kernel batchNorm(KernelRequest r, BatchNorm2d bn) {
        return map(r, (b, idx, p) -> {
            String c = idx[1];
            b.append("    const float scale = ").append(r.in(1).at(c)).append(" / sqrt(").append(r.in(4).at(c))
                    .append(" + ").append(Code.lit(bn.eps())).append(");\n");
            return "(" + r.in(0).at(idx) + " - " + r.in(3).at(c) + ") * scale + " + r.in(2).at(c);
        });
    }

    /** Same elements in row-major order: read the operand at the same flat position. */
    static Kernel reshape(KernelRequest r) {
        View in = r.in(0);
        if (in.isContiguous()) return map(r, (b, idx, p) -> in.reshape(r.out().dims()).at(idx));
        return map(r, (b, idx, p) -> in.at(Code.declareUnravel(b, "    ", "j", p, in.dims())));
    }

    static Kernel transpose(KernelRequest r, Transpose t) {
        return map(r, (b, idx, p) -> r.in(0).permute(t.perm().toArray()).at(idx));
    }

    static Kernel slice(KernelRequest r, Slice s) {
        View v = r.in(0);
        for (int i = 0; i < s.axes().size(); i++) v = v.slice(s.axes().get(i), s.starts().get(i), s.steps().get(i), r.out().dim(s.axes().get(i)));
        View sliced = v;
        return map(r, (b, idx, p) -> sliced.at(idx));
    }

    /** Picks the operand by the index along the concat axis. */
    static Kernel concat(KernelRequest r, Concat c) {
        return map(r, (b, idx, p) -> {
            int axis = c.axis(), start = 0;
            b.append("    float v;\n");
            for (int i = 0; i < r.in().size(); i++) {
                int size = r.in(i).dim(axis);
                String[] j = idx.clone();
                j[axis] = start == 0 ? idx[axis] : "(" + idx[axis] + " - " + start + ")";
                boolean last = i == r.in().size() - 1;
                b.append(i == 0 ? "    " : " else ").append(last ? "" : "if (" + idx[axis] + " < " + (start + size) + ") ")
                        .append("v = ").append(r.in(i).at(j)).append(";");
                start += size;
            }
            b.append('\n');
            return "v";
        });
    }

    /** Padded positions never win; a NaN in the window makes the result NaN, as in the reference. */
    static Kernel maxPool(KernelRequest r, MaxPool2d mp) {
        return map(r, (b, idx, p) -> {
            window(b, r, idx, mp.kernel().toArray(), mp.stride().toArray(), mp.padding().toArray(), "float m = -INFINITY; int nan = 0;",
                    "const float x = %s; if (isnan(x)) nan = 1; else m = fmax(m, x);", "");
            return "nan ? NAN : m";
        });
    }

    /** With countIncludePad the divisor counts padding inside the padded extent, never beyond it. */
    static Kernel avgPool(KernelRequest r, AvgPool2d ap) {
        int h = r.in(0).dim(2), w = r.in(0).dim(3);
        String countPadded = ap.countIncludePad()
                ? "else if (iy < " + (h + ap.padding().get(2)) + " && ix < " + (w + ap.padding().get(3)) + ") n++;" : "";
        return map(r, (b, idx, p) -> {
            window(b, r, idx, ap.kernel().toArray(), ap.stride().toArray(), ap.padding().toArray(), "float s = 0.0f; int n = 0;", "s += %s; n++;", countPadded);
            return "s / (float) n";
        });
    }

    private static void window(StringBuilder b, KernelRequest r, String[] idx, int[] k, int[] stride, int[] pad,
                               String init, String inside, String outside) {
        View x = r.in(0);
        b.append("    ").append(init).append('\n');
        b.append("    for (int ky = 0; ky < ").append(k[0]).append("; ky++) {\n");
        b.append("        const int iy = ").append(idx[2]).append(" * ").append(stride[0]).append(" - ").append(pad[0]).append(" + ky;\n");
        b.append("        for (int kx = 0; kx < ").append(k[1]).append("; kx++) {\n");
        b.append("            const int ix = ").append(idx[3]).append(" * ").append(stride[1]).append(" - ").append(pad[1]).append(" + kx;\n");
        b.append("            if (iy >= 0 && iy < ").append(x.dim(2)).append(" && ix >= 0 && ix < ").append(x.dim(3)).append(") { ")
                .append(inside.replace("%s", x.at(idx[0], idx[1], "iy", "ix"))).append(" } ").append(outside).append('\n');
        b.append("        }\n    }\n");
    }
}
