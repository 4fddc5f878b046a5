package dev.kiln.backend.opencl;

import java.util.ArrayList;
import java.util.List;

/**
 * The GEMM for CPU devices (PoCL, Intel's CPU runtime): no local memory and no barriers. A CPU
 * runtime runs a work-group as a loop over its work-items on one core, so the GPU kernel's
 * local-memory staging becomes copies and its barriers split every item's loop; here instead each
 * work-item keeps a register tile of C and reads A and B straight from global memory, which the
 * caches already hold. Two shapes of register tile:
 * <ul>
 *   <li>{@link Style#OUTER}: rows × (cols · floatW) of C; per k, rows scalars of A times cols
 *       vectors of B (vector loads where B runs along n, e.g. MatMul; lanes gathered one by one
 *       otherwise, e.g. a convolution's im2col). With W = 1 it is the "implicit vectorisation"
 *       form: scalar items that the runtime vectorises across the work-group.</li>
 *   <li>{@link Style#DOT}: rows × cols dot products when both A and B run along k (Linear's
 *       weight[n][k]): floatW partial sums along k, summed across lanes once at the end.</li>
 * </ul>
 * Rows and columns past the edge are clamped to the last valid one (so the loops have no bounds
 * checks) and simply not stored. The epilogue is the op's own store, as in {@link GemmKernel}.
 */
final class CpuDeviceGemm {
    private CpuDeviceGemm() {}

    enum Style { OUTER, DOT }

    /** One point of the family's tile space: what the tuner searches and the defaults pick from. */
    record Params(Style style, int rows, int width, int cols, int group, int groupM) {
        Params {
            if (rows < 1 || cols < 1 || group < 1 || groupM < 1 || Integer.bitCount(width) != 1 || width > 16 || width == 2 && style == Style.DOT)
                throw new IllegalArgumentException("bad CPU GEMM tile " + rows + "x" + cols + "xfloat" + width + ", group " + group + "x" + groupM);
        }

        Params(Style style, int rows, int width, int cols, int group) { this(style, rows, width, cols, group, 1); }

        /** "outer 6x2xfloat16 group 8x4" (items along n × along m): also the form the tuning cache stores. */
        @Override public String toString() {
            return style.name().toLowerCase() + " " + rows + "x" + cols + "xfloat" + width + " group " + group + "x" + groupM;
        }

        static Params parse(String s) {
            String[] p = s.strip().split("[ x]+");
            if (p.length != 7 || !p[3].startsWith("float") || !p[4].equals("group"))
                throw new IllegalArgumentException("not a CPU GEMM tile: '" + s + "'");
            return new Params(Style.valueOf(p[0].toUpperCase()), Integer.parseInt(p[1]), Integer.parseInt(p[3].substring(5)),
                    Integer.parseInt(p[2]), Integer.parseInt(p[5]), Integer.parseInt(p[6]));
        }
    }

    /**
     * What the family needs to know of a GEMM to pick a tile: its shape and which operands can be
     * read as vectors. Also the tuning cache's key (with the device), so equal problems share one search.
     */
    record Problem(int batches, int m, int n, int k, boolean aAlongK, boolean bAlongN, boolean bAlongK) {
        String key() {
            return batches + "x" + m + "x" + n + "x" + k + (aAlongK ? " a:k" : " a:-") + (bAlongN ? " b:n" : bAlongK ? " b:k" : " b:-");
        }

        /** The tile styles that make sense: DOT needs both operands along k. */
        boolean dotPossible() { return aAlongK && bAlongK; }
    }

    /** The operands as rank-3 [batches, M, K] and [batches, K, N] views, or null where an operand is only gathered. */
    record Direct(View a, View b) {}

    static Problem problem(GemmKernel.Shape s, Direct d) {
        boolean aK = d.a() != null && d.a().strides()[2] == 1;
        boolean bN = d.b() != null && d.b().strides()[2] == 1;
        boolean bK = d.b() != null && d.b().strides()[1] == 1 && !bN;
        return new Problem(s.batches(), s.m(), s.n(), s.k(), aK, bN, bK);
    }

    /**
     * The tile used without tuning, from measurements on PoCL (AVX-512, 2 cores; README "OpenCL
     * kernel families and tuning"): DOT 4×4 × float16 in 4×4-item groups (items sharing A rows
     * and B rows in the cache), OUTER 6 rows × 2 float16 (8 rows × 1 where B is gathered).
     */
    static Params defaults(Problem p, DeviceLimits l) {
        int w = Math.max(4, Math.min(16, Integer.highestOneBit(Math.max(1, l.preferredVectorWidth()))));
        if (p.dotPossible()) return fit(p, new Params(Style.DOT, Math.min(4, p.m()), w, Math.min(4, p.n()), 4, 4), l);
        while (w > 4 && w / 2 >= p.n()) w /= 2;
        // B gathered lane by lane (a convolution's im2col): one vector per item, more rows to share it
        if (!p.bAlongN()) return fit(p, new Params(Style.OUTER, Math.min(8, p.m()), w, 1, 1), l);
        return fit(p, new Params(Style.OUTER, Math.min(6, p.m()), w, p.n() >= 2 * w ? 2 : 1, 1), l);
    }

    /**
     * The same tile with its work-group no larger than the items there are (a GEMV must not run 4
     * clamped copies of its row) nor than the device allows (also after it refused a size, see
     * {@link DeviceLimits#withMaxWorkGroupSize}).
     */
    static Params fit(Problem p, Params t, DeviceLimits l) {
        int colsN = t.style() == Style.DOT ? t.cols() : t.cols() * t.width();
        int g0 = Math.min(Math.min(t.group(), Code.pow2AtLeast(Code.ceilDiv(p.n(), colsN))), l.maxItems(0));
        int g1 = Math.min(Math.min(t.groupM(), Code.pow2AtLeast(Code.ceilDiv(p.m(), t.rows()))), l.maxItems(1));
        while ((long) g0 * g1 > l.maxWorkGroupSize() && g0 * g1 > 1) {
            if (g0 >= g1) g0 = Math.max(1, g0 / 2);
            else g1 = Math.max(1, g1 / 2);
        }
        return g0 == t.group() && g1 == t.groupM() ? t : new Params(t.style(), t.rows(), t.width(), t.cols(), g0, g1);
    }

    /** The tile to use: the tuned one where it suits this problem (a cache line may be stale or edited), else the defaults. */
    static Params choose(Problem p, Params tuned, DeviceLimits l) {
        if (tuned == null || tuned.style() == Style.DOT && !p.dotPossible()) return defaults(p, l);
        return fit(p, tuned, l);
    }

    /**
     * Every tile the tuner may try for this problem, defaults first. Where both operands run
     * along k only DOT tiles are tried: OUTER would gather B along a stride (9–33 GFLOP/s at 512–1024).
     */
    static List<Params> candidates(Problem p, DeviceLimits l) {
        List<Params> out = new ArrayList<>();
        add(out, p, l, defaults(p, l));
        if (p.dotPossible()) {
            for (int[] t : new int[][]{{4, 4, 16, 8, 8}, {4, 4, 16, 16, 4}, {4, 2, 16, 4, 4}, {3, 6, 16, 4, 4}, {8, 2, 16, 4, 4},
                    {4, 4, 16, 1, 1}, {4, 2, 16, 1, 1}, {4, 4, 8, 4, 4}})
                add(out, p, l, new Params(Style.DOT, Math.min(t[0], p.m()), t[2], Math.min(t[1], p.n()), t[3], t[4]));
            return out;
        }
        for (int[] t : new int[][]{{6, 2, 16, 4, 4}, {8, 1, 16, 1, 1}, {8, 1, 16, 4, 4}, {6, 2, 16, 8, 8}, {12, 1, 16, 1, 1},
                {14, 2, 16, 1, 1}, {6, 2, 16, 1, 1}, {8, 2, 8, 1, 1}})
            add(out, p, l, new Params(Style.OUTER, Math.min(t[0], p.m()), t[2], t[1], t[3], t[4]));
        // scalar items that the runtime vectorises across a work-group along n (PoCL: 9-18 GFLOP/s at 512-1024, kept to be measured)
        add(out, p, l, new Params(Style.OUTER, Math.min(8, p.m()), 1, 1, 16, 1));
        return out;
    }

    private static void add(List<Params> out, Problem p, DeviceLimits l, Params t) {
        Params f = fit(p, t, l);
        if (!out.contains(f)) out.add(f);
    }

    static Kernel generate(KernelRequest r, GemmKernel.Shape s, GemmKernel.Operands ops, Direct d, Params t) {
        Launch l = source(r, s, ops, d, t);
        return r.kernel(l.source(), l.global(), l.local());
    }

    record Launch(String source, long[] global, long[] local) {}

    static Launch source(KernelRequest r, GemmKernel.Shape s, GemmKernel.Operands ops, Direct d, Params t) {
        Problem p = problem(s, d);
        if (t.style() == Style.DOT && !p.dotPossible()) throw new IllegalArgumentException("dot tile for a problem without both operands along k: " + p);
        int colsN = t.style() == Style.DOT ? t.cols() : t.cols() * t.width();
        long items0 = Code.roundUp(Code.ceilDiv(s.n(), colsN), t.group());
        long[] local = {t.group(), t.groupM(), 1};
        long[] global = {items0, Code.roundUp(Code.ceilDiv(s.m(), t.rows()), t.groupM()), s.batches()};
        StringBuilder b = new StringBuilder("// cpu-device GEMM (no local memory): ").append(s).append(", ").append(t).append('\n');
        b.append(r.header(local)).append(" {\n");
        b.append("    const int n0 = get_global_id(0) * ").append(colsN).append(", m0 = get_global_id(1) * ").append(t.rows())
                .append(", b = get_global_id(2);\n");
        b.append("    if (n0 >= ").append(s.n()).append(") return;\n");
        if (t.style() == Style.DOT) dot(b, s, ops, d, t);
        else outer(b, s, ops, d, p, t);
        b.append("}\n");
        return new Launch(b.toString(), global, local);
    }

    /** Rows × cols vectors of C per item; per k one scalar of A per row, one vector of B per column group. */
    private static void outer(StringBuilder b, GemmKernel.Shape s, GemmKernel.Operands ops, Direct d, Problem p, Params t) {
        int w = t.width(), rows = t.rows(), cols = t.cols();
        String vec = Code.floatN(w);
        for (int i = 0; i < rows; i++) {
            b.append("    const int m_").append(i).append(" = min(m0 + ").append(i).append(", ").append(s.m() - 1).append(");\n");
            if (p.aAlongK()) b.append("    global const float* restrict pa_").append(i).append(" = ").append(rowPointer(d.a(), "b", "m_" + i, "0")).append(";\n");
        }
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++) b.append("    ").append(vec).append(" acc_").append(i).append('_').append(c).append(" = 0.0f;\n");
        if (p.bAlongN()) {
            b.append("    if (n0 + ").append(cols * w).append(" <= ").append(s.n()).append(") {\n");
            outerLoop(b, s, ops, d, p, t, true);
            b.append("    } else {\n");
            outerLoop(b, s, ops, d, p, t, false);
            b.append("    }\n");
        } else {
            outerLoop(b, s, ops, d, p, t, false);
        }
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++)
                for (int j = 0; j < w; j++)
                    store(b, s, ops, "m0 + " + i, "n0 + " + (c * w + j), Code.lane(w, "acc_" + i + "_" + c, j));
    }

    private static void outerLoop(StringBuilder b, GemmKernel.Shape s, GemmKernel.Operands ops, Direct d, Problem p, Params t, boolean vectorB) {
        int w = t.width();
        String vec = Code.floatN(w);
        if (!vectorB) {
            // the columns this item reads, clamped: lanes past N read column N-1 and are never stored
            for (int c = 0; c < t.cols(); c++)
                for (int j = 0; j < w; j++)
                    b.append("    const int n_").append(c).append('_').append(j).append(" = min(n0 + ").append(c * w + j).append(", ").append(s.n() - 1).append(");\n");
        }
        b.append("    for (int k = 0; k < ").append(s.k()).append("; k++) {\n");
        for (int c = 0; c < t.cols(); c++) {
            b.append("        ").append(vec).append(" bv_").append(c).append(";\n");
            if (vectorB) {
                b.append("        bv_").append(c).append(" = ").append(Code.vload(w, rowPointer(d.b(), "b", "k", "n0 + " + c * w))).append(";\n");
            } else {
                for (int j = 0; j < w; j++) {
                    String n = "n_" + c + "_" + j;
                    String load = p.bAlongN() || d.b() != null ? "v = " + d.b().ptr() + "[" + d.b().index("b", "k", n) + "];" : ops.loadB();
                    b.append("        { const int n = ").append(n).append("; float v = 0.0f;\n");
                    b.append(GemmKernel.indent(load, "          "));
                    b.append("          ").append(Code.lane(w, "bv_" + c, j)).append(" = v; }\n");
                }
            }
        }
        for (int i = 0; i < t.rows(); i++) {
            if (p.aAlongK()) b.append("        const float a_").append(i).append(" = pa_").append(i).append("[k];\n");
            else {
                b.append("        float a_").append(i).append(";\n        { const int m = m_").append(i).append("; float v = 0.0f;\n");
                b.append(GemmKernel.indent(ops.loadA(), "          "));
                b.append("          a_").append(i).append(" = v; }\n");
            }
            for (int c = 0; c < t.cols(); c++)
                b.append("        acc_").append(i).append('_').append(c).append(" = fma(").append(Code.splat(w, "a_" + i)).append(", bv_").append(c)
                        .append(", acc_").append(i).append('_').append(c).append(");\n");
        }
        b.append("    }\n");
    }

    /** Rows × cols dot products along k, floatW partial sums, the K tail in scalars. */
    private static void dot(StringBuilder b, GemmKernel.Shape s, GemmKernel.Operands ops, Direct d, Params t) {
        int w = t.width(), rows = t.rows(), cols = t.cols(), kv = s.k() / w * w;
        String vec = Code.floatN(w);
        for (int i = 0; i < rows; i++)
            b.append("    global const float* restrict pa_").append(i).append(" = ")
                    .append(rowPointer(d.a(), "b", "min(m0 + " + i + ", " + (s.m() - 1) + ")", "0")).append(";\n");
        for (int c = 0; c < cols; c++)
            b.append("    global const float* restrict pb_").append(c).append(" = ")
                    .append(rowPointer(d.b(), "b", "0", "min(n0 + " + c + ", " + (s.n() - 1) + ")")).append(";\n");
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++) b.append("    ").append(vec).append(" acc_").append(i).append('_').append(c).append(" = 0.0f;\n");
        if (kv > 0) {
            b.append("    for (int k = 0; k < ").append(kv).append("; k += ").append(w).append(") {\n");
            for (int c = 0; c < cols; c++)
                b.append("        const ").append(vec).append(" bv_").append(c).append(" = ").append(Code.vload(w, "pb_" + c + " + k")).append(";\n");
            for (int i = 0; i < rows; i++) {
                b.append("        const ").append(vec).append(" av_").append(i).append(" = ").append(Code.vload(w, "pa_" + i + " + k")).append(";\n");
                for (int c = 0; c < cols; c++)
                    b.append("        acc_").append(i).append('_').append(c).append(" = fma(av_").append(i).append(", bv_").append(c)
                            .append(", acc_").append(i).append('_').append(c).append(");\n");
            }
            b.append("    }\n");
        }
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++) {
                String acc = "acc_" + i + "_" + c;
                b.append("    float s_").append(i).append('_').append(c).append(" = ").append(w == 1 ? acc : laneSum(w, acc)).append(";\n");
            }
        if (kv < s.k()) {
            b.append("    for (int k = ").append(kv).append("; k < ").append(s.k()).append("; k++) {\n");
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < cols; c++)
                    b.append("        s_").append(i).append('_').append(c).append(" = fma(pa_").append(i).append("[k], pb_").append(c)
                            .append("[k], s_").append(i).append('_').append(c).append(");\n");
            b.append("    }\n");
        }
        for (int i = 0; i < t.rows(); i++)
            for (int c = 0; c < t.cols(); c++) store(b, s, ops, "m0 + " + i, "n0 + " + c, "s_" + i + "_" + c);
    }

    /** Sum of a vector's lanes as a halving tree (fewer dependent adds than lane by lane). */
    private static String laneSum(int w, String v) {
        if (w == 1) return v;
        int h = w / 2;
        String lo = v + ".lo", hi = v + ".hi";
        if (h == 1) return "(" + lo + " + " + hi + ")";
        return laneSum(h, "(" + lo + " + " + hi + ")");
    }

    private static void store(StringBuilder b, GemmKernel.Shape s, GemmKernel.Operands ops, String m, String n, String value) {
        b.append("    { const int m = ").append(m).append(", n = ").append(n).append(";\n");
        b.append("      if (m < ").append(s.m()).append(" && n < ").append(s.n()).append(") { const float acc_v = ").append(value).append(";\n");
        b.append(GemmKernel.indent(ops.store("acc_v"), "        "));
        b.append("      } }\n");
    }

    /** "ptr + index": the address of element (i0, i1, i2) of a rank-3 view. */
    private static String rowPointer(View v, String i0, String i1, String i2) {
        return v.ptr() + " + " + v.index(i0, i1, i2);
    }

    /** A view as rank 3 [batches, rows, cols] (its leading axes merged where their strides allow), or null. */
    static View rank3(View v) {
        int r = v.rank();
        if (r < 2) return null;
        int batches = 1, last = -1;
        for (int i = 0; i < r - 2; i++) {
            if (v.dim(i) == 1) continue;
            if (last >= 0 && v.strides()[last] != v.strides()[i] * v.dim(i)) return null;
            batches *= v.dim(i);
            last = i;
        }
        return new View(v.ptr(), v.offset(), new int[]{batches, v.dim(r - 2), v.dim(r - 1)},
                new long[]{last < 0 ? 0 : v.strides()[last], v.strides()[r - 2], v.strides()[r - 1]}, View.NO_HALO);
    }
}
