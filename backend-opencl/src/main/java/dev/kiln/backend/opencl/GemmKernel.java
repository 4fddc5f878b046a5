package dev.kiln.backend.opencl;

/**
 * The tiled GEMM every matrix-shaped op lowers to: C[b][m][n] = Σ_k A[b][m][k] · B[b][k][n],
 * then a fused epilogue stores each element. Linear, MatMul, Conv2d (as implicit GEMM: B is the
 * im2col of the input, never materialised) and FusedDwPwConv (B is the depthwise result,
 * computed tile by tile into local memory) differ only in their {@link Operands}.
 *
 * <p>Per K step the work-group stages an A tile and a B tile in local memory (zero-filled past
 * the edges, so the inner loop has no bounds checks); each work-item then accumulates rm rows ×
 * vw columns with float{vw} fused multiply-adds: one vector load of B and rm broadcasts of A per k.
 */
final class GemmKernel {
    private GemmKernel() {}

    /** batches × [m × k] · [k × n]. */
    record Shape(int batches, int m, int n, int k) {}

    /** How one op reads A and B and stores C, as OpenCL C statements over the kernel's variables. */
    interface Operands {
        /** Statements that set float v to A(b, m, k); run only for m &lt; M, k &lt; K. */
        String loadA();

        /** Statements that set float v to B(b, k, n); run only for k &lt; K, n &lt; N. */
        String loadB();

        /** Statements that store the accumulated value (a float expression) as C(b, m, n), epilogue applied. */
        String store(String value);

        /** Whether A is laid out along k (so the tile load walks k fastest). */
        boolean aAlongK();

        /** Whether B is laid out along k (true for Linear's weight[n][k]); false walks n fastest. */
        boolean bAlongK();
    }

    /** How to pick the family: -Dkiln.opencl.gemm=auto (by device type, the default), tiled or cpu (forced everywhere). */
    static final String FAMILY_PROPERTY = "kiln.opencl.gemm";

    /**
     * The GEMM kernel for this device: on CPU devices {@link CpuDeviceGemm} (register tiles, no
     * local memory; tuned tiles from the limits' table, else defaults); elsewhere the tiled kernel.
     *
     * @param direct the operands as plain [batches, M, K] / [batches, K, N] views where they are ones (null entries: gathered)
     * @param coverM see {@link GemmTiling#choose}
     */
    static Kernel gemm(KernelRequest r, Shape s, Operands ops, CpuDeviceGemm.Direct direct, boolean coverM) {
        DeviceLimits l = r.limits();
        if (cpuFamily(l)) {
            CpuDeviceGemm.Problem p = CpuDeviceGemm.problem(s, direct);
            return CpuDeviceGemm.generate(r, s, ops, direct, CpuDeviceGemm.choose(p, l.tuned().lookup(p), l));
        }
        return generate(r, s, ops, GemmTiling.choose(s.batches(), s.m(), s.n(), s.k(), coverM, l));
    }

    static boolean cpuFamily(DeviceLimits l) {
        String forced = System.getProperty(FAMILY_PROPERTY, "auto").strip().toLowerCase();
        return switch (forced) {
            case "cpu" -> true;
            case "tiled" -> false;
            case "auto", "" -> l.type() == DeviceInfo.Type.CPU;
            default -> throw new dev.kiln.ir.KilnException("-D" + FAMILY_PROPERTY + "=" + forced + ": expected auto, tiled or cpu");
        };
    }

    static Kernel generate(KernelRequest r, Shape s, Operands ops, GemmTiling t) {
        int bm = t.bm(), bn = t.bn(), bk = t.bk(), wg = t.workGroupSize(), vw = t.vw(), rm = t.rm();
        String vec = Code.floatN(vw);
        long[] local = {t.tx(), t.ty(), 1};
        long[] global = {(long) Code.ceilDiv(s.n(), bn) * t.tx(), (long) Code.ceilDiv(s.m(), bm) * t.ty(), s.batches()};

        StringBuilder b = new StringBuilder("// ").append(s).append(", ").append(t).append('\n');
        b.append(r.header(local)).append(" {\n");
        b.append("    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * ").append(t.tx()).append(" + tx;\n");
        b.append("    const int n0 = get_group_id(0) * ").append(bn).append(", m0 = get_group_id(1) * ").append(bm)
                .append(", b = get_group_id(2);\n");
        b.append("    __local float As[").append(bk * bm).append("];\n");
        b.append("    __local float Bs[").append(bk * bn).append("];\n");
        b.append("    ").append(vec).append(" acc[").append(rm).append("];\n");
        b.append("    #pragma unroll\n");
        b.append("    for (int r = 0; r < ").append(rm).append("; r++) acc[r] = ").append(Code.splat(vw, "0.0f")).append(";\n");
        b.append("    for (int k0 = 0; k0 < ").append(s.k()).append("; k0 += ").append(bk).append(") {\n");

        // stage the A tile: As[kk][r]
        b.append("        for (int i = lid; i < ").append(bm * bk).append("; i += ").append(wg).append(") {\n");
        b.append(ops.aAlongK()
                ? "            const int r = i / " + bk + ", kk = i % " + bk + ";\n"
                : "            const int kk = i / " + bm + ", r = i % " + bm + ";\n");
        b.append("            const int m = m0 + r, k = k0 + kk;\n");
        b.append("            float v = 0.0f;\n");
        b.append("            if (m < ").append(s.m()).append(" && k < ").append(s.k()).append(") {\n");
        b.append(indent(ops.loadA(), "                "));
        b.append("            }\n");
        b.append("            As[kk * ").append(bm).append(" + r] = v;\n");
        b.append("        }\n");

        // stage the B tile: Bs[kk][c]
        b.append("        for (int i = lid; i < ").append(bk * bn).append("; i += ").append(wg).append(") {\n");
        b.append(ops.bAlongK()
                ? "            const int c = i / " + bk + ", kk = i % " + bk + ";\n"
                : "            const int kk = i / " + bn + ", c = i % " + bn + ";\n");
        b.append("            const int n = n0 + c, k = k0 + kk;\n");
        b.append("            float v = 0.0f;\n");
        b.append("            if (n < ").append(s.n()).append(" && k < ").append(s.k()).append(") {\n");
        b.append(indent(ops.loadB(), "                "));
        b.append("            }\n");
        b.append("            Bs[kk * ").append(bn).append(" + c] = v;\n");
        b.append("        }\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");

        // multiply the tiles from local memory
        b.append("        for (int kk = 0; kk < ").append(bk).append("; kk++) {\n");
        b.append("            const ").append(vec).append(" bv = ").append(Code.vload(vw, "Bs + kk * " + bn + " + tx * " + vw)).append(";\n");
        b.append("            const int a0 = kk * ").append(bm).append(" + ty * ").append(rm).append(";\n");
        b.append("            #pragma unroll\n");
        b.append("            for (int r = 0; r < ").append(rm).append("; r++) acc[r] = fma(")
                .append(Code.splat(vw, "As[a0 + r]")).append(", bv, acc[r]);\n");
        b.append("        }\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("    }\n");

        // epilogue: each lane stored through the op's store (bias, activation, residual/gate)
        b.append("    for (int r = 0; r < ").append(rm).append("; r++) {\n");
        b.append("        const int m = m0 + ty * ").append(rm).append(" + r;\n");
        b.append("        if (m >= ").append(s.m()).append(") break;\n");
        if (vw == 1) {
            b.append("        const int n = n0 + tx;\n");
            b.append("        if (n < ").append(s.n()).append(") {\n");
            b.append("            const float acc_v = acc[r];\n");
            b.append(indent(ops.store("acc_v"), "            "));
            b.append("        }\n");
        } else {
            b.append("        float lanes[").append(vw).append("];\n");
            b.append("        vstore").append(vw).append("(acc[r], 0, lanes);\n");
            b.append("        for (int j = 0; j < ").append(vw).append("; j++) {\n");
            b.append("            const int n = n0 + tx * ").append(vw).append(" + j;\n");
            b.append("            if (n >= ").append(s.n()).append(") break;\n");
            b.append("            const float acc_v = lanes[j];\n");
            b.append(indent(ops.store("acc_v"), "            "));
            b.append("        }\n");
        }
        b.append("    }\n}\n");
        return r.kernel(b.toString(), global, local);
    }

    static String indent(String statements, String indent) {
        StringBuilder b = new StringBuilder();
        for (String line : statements.split("\n")) if (!line.isBlank()) b.append(indent).append(line.stripTrailing()).append('\n');
        return b.toString();
    }
}
