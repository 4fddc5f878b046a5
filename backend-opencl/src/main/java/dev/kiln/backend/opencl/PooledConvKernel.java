package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Pool;

/**
 * A conv2d whose epilogue ends with a pool: one work-item per pooled output, which computes the
 * conv (bias, then the epilogue without its pool) at each in-plane pixel of its window and
 * reduces them as the pool op does (NaN wins a max; an average divides by the counted pixels,
 * padding counted up to the padded edge when count_include_pad). Overlapping windows recompute
 * their shared pixels (9/4 of the conv's work at 3×3 stride 2): simple and correct on any device,
 * where splitting it into the GEMM conv and a pool kernel would need a buffer the plan does not hold.
 */
final class PooledConvKernel {
    private PooledConvKernel() {}

    static Kernel generate(KernelRequest r, Conv2d c, boolean hasBias) {
        View x = r.in(0), w = r.in(1);
        Pool pool = c.epilogue().pool();
        Epilogue each = c.epilogue().withoutPool();
        int cg = w.dim(1), kh = w.dim(2), kw = w.dim(3), og = w.dim(0) / c.groups();
        int ch = convSize(x.dim(2), c, kh, 0), cw = convSize(x.dim(3), c, kw, 1);
        int qkh = pool.kernel().get(0), qkw = pool.kernel().get(1), qsh = pool.stride().get(0), qsw = pool.stride().get(1);
        int qpt = pool.padding().get(0), qpl = pool.padding().get(1), qpb = pool.padding().get(2), qpr = pool.padding().get(3);
        return MapKernels.map(r, (b, idx, p) -> {
            String group = c.groups() == 1 ? "0" : "(" + idx[1] + " / " + og + ")";
            b.append("    float acc = ").append(pool.max() ? "-INFINITY" : "0.0f").append("; int nan = 0, cnt = 0;\n");
            b.append("    for (int qy = 0; qy < ").append(qkh).append("; qy++) {\n");
            b.append("      const int cy = ").append(idx[2]).append(" * ").append(qsh).append(" - ").append(qpt).append(" + qy;\n");
            b.append("      for (int qx = 0; qx < ").append(qkw).append("; qx++) {\n");
            b.append("        const int cx = ").append(idx[3]).append(" * ").append(qsw).append(" - ").append(qpl).append(" + qx;\n");
            b.append("        if (cy >= 0 && cy < ").append(ch).append(" && cx >= 0 && cx < ").append(cw).append(") {\n");
            b.append("          float s = ").append(hasBias ? r.in(2).at(idx[1]) : "0.0f").append(";\n");
            b.append("          for (int ic = 0; ic < ").append(cg).append("; ic++)\n");
            b.append("            for (int ky = 0; ky < ").append(kh).append("; ky++) {\n");
            b.append("              const int iy = cy * ").append(c.stride().get(0)).append(" - ").append(c.padding().get(0)).append(" + ky * ").append(c.dilation().get(0)).append(";\n");
            b.append("              if (iy < 0 || iy >= ").append(x.dim(2)).append(") continue;\n");
            b.append("              for (int kx = 0; kx < ").append(kw).append("; kx++) {\n");
            b.append("                const int ix = cx * ").append(c.stride().get(1)).append(" - ").append(c.padding().get(1)).append(" + kx * ").append(c.dilation().get(1)).append(";\n");
            b.append("                if (ix >= 0 && ix < ").append(x.dim(3)).append(") s = fma(")
                    .append(x.at(idx[0], group + " * " + cg + " + ic", "iy", "ix")).append(", ").append(w.at(idx[1], "ic", "ky", "kx")).append(", s);\n");
            b.append("              }\n            }\n");
            b.append("          s = ").append(Code.epilogue("s", each, null)).append(";\n");
            if (pool.max()) b.append("          if (isnan(s)) nan = 1; else acc = fmax(acc, s);\n");
            else b.append("          acc += s; cnt++;\n");
            b.append("        }");
            if (!pool.max() && pool.countIncludePad())
                b.append(" else if (cy < ").append(ch + qpb).append(" && cx < ").append(cw + qpr).append(") cnt++;");
            b.append("\n      }\n    }\n");
            return pool.max() ? "nan ? NAN : acc" : "acc / (float) cnt";
        });
    }

    private static int convSize(int in, Conv2d c, int k, int axis) {
        return (in + c.padding().get(axis) + c.padding().get(axis + 2) - c.dilation().get(axis) * (k - 1) - 1) / c.stride().get(axis) + 1;
    }
}
