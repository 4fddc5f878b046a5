package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Reduce;

/**
 * Reduce: one work-item per result element, looping over the reduced axes (nested loops with
 * constant bounds). MAX/MIN propagate NaN as the reference does (C's fmax/fmin would drop it);
 * LOG_SUM_EXP makes a first pass for the max, so exp never overflows; L2 and SUM_SQUARE one for the
 * largest |x|, and square x / that, since x² leaves f32's range long before the norm does.
 */
final class ReduceKernel {
    private ReduceKernel() {}

    static Kernel generate(KernelRequest r, Reduce op) {
        View x = r.in(0);
        int rank = x.rank();
        long count = 1;
        for (int i = 0; i < rank; i++) if (op.reduces(i)) count *= x.dim(i);
        long n = count;
        return MapKernels.map(r, (b, idx, p) -> {
            // the input index: a result index on kept axes, a loop variable on reduced ones
            String[] in = new String[rank];
            for (int i = 0, k = 0; i < rank; i++) {
                if (op.reduces(i)) { in[i] = "r" + i; if (op.keepDims()) k++; }
                else in[i] = idx[k++];
            }
            String element = x.at(in);
            if (op.kind() == Reduce.Kind.LOG_SUM_EXP) {
                b.append("    float m = -INFINITY;\n");
                loops(b, op, x, "{ const float v = " + element + "; m = (isnan(m) || isnan(v)) ? m + v : fmax(m, v); }");
                b.append("    if (isinf(m) || isnan(m)) { ").append(r.out().at(idx)).append(" = m; return; }\n");
            }
            boolean scaled = op.kind() == Reduce.Kind.L2 || op.kind() == Reduce.Kind.SUM_SQUARE;
            if (scaled) {
                b.append("    float m = 0.0f;\n");
                loops(b, op, x, "{ const float v = fabs(" + element + "); m = (isnan(m) || isnan(v)) ? m + v : fmax(m, v); }");
                b.append("    if (isinf(m) || isnan(m)) { ").append(r.out().at(idx)).append(" = m; return; }\n");
                b.append("    if (m == 0.0f) m = 1.0f;\n");
            }
            b.append("    float acc = ").append(Code.lit((float) op.kind().identity())).append(";\n");
            String step = switch (op.kind()) {
                case SUM, MEAN, LOG_SUM -> "acc += v;";
                case MAX -> "acc = (isnan(acc) || isnan(v)) ? acc + v : fmax(acc, v);";
                case MIN -> "acc = (isnan(acc) || isnan(v)) ? acc + v : fmin(acc, v);";
                case PROD -> "acc *= v;";
                case L1 -> "acc += fabs(v);";
                case L2, SUM_SQUARE -> "const float s = v / m; acc = fma(s, s, acc);";
                case LOG_SUM_EXP -> "acc += exp(v - m);";
            };
            loops(b, op, x, "{ const float v = " + element + "; " + step + " }");
            return switch (op.kind()) {
                case SUM, MAX, MIN, PROD, L1 -> "acc";
                case SUM_SQUARE -> "m * (m * acc)";
                case MEAN -> "acc / " + Code.lit((float) n);
                case L2 -> "m * sqrt(acc)";
                case LOG_SUM -> "log(acc)";
                case LOG_SUM_EXP -> "m + log(acc)";
            };
        });
    }

    private static void loops(StringBuilder b, Reduce op, View x, String body) {
        String indent = "    ";
        for (int i = 0; i < x.rank(); i++) {
            if (!op.reduces(i)) continue;
            b.append(indent).append("for (int r").append(i).append(" = 0; r").append(i).append(" < ").append(x.dim(i)).append("; r").append(i).append("++)\n");
            indent += "    ";
        }
        b.append(indent).append(body).append('\n');
    }
}
