package dev.kiln.backend.opencl;

import dev.kiln.ir.op.ConvTranspose2d;

/**
 * A transposed convolution, one work-item per output element: it gathers the taps that reach
 * it (ky, kx whose input row and column land on a whole multiple of the stride, inside the
 * input) over its group's input channels, adds the bias and applies the epilogue. Gathering
 * rather than scattering keeps every output written by one work-item, so nothing races.
 */
final class ConvTransposeKernel {
    private ConvTransposeKernel() {}

    static Kernel generate(KernelRequest r, ConvTranspose2d t) {
        View x = r.in(0), w = r.in(1);
        int cg = x.dim(1) / t.groups(), og = w.dim(1), kh = w.dim(2), kw = w.dim(3);
        int sh = t.stride().get(0), sw = t.stride().get(1), dh = t.dilation().get(0), dw = t.dilation().get(1);
        int pt = t.padding().get(0), pl = t.padding().get(1);
        boolean hasBias = r.in().size() >= 3;
        return MapKernels.map(r, (b, idx, p) -> {
            b.append("    float s = ").append(hasBias ? r.in(2).at(idx[1]) : "0.0f").append(";\n");
            b.append("    const int g0 = (").append(idx[1]).append(") / ").append(og).append(" * ").append(cg)
                    .append(", j = (").append(idx[1]).append(") % ").append(og).append(";\n");
            b.append("    for (int ky = 0; ky < ").append(kh).append("; ky++) {\n");
            b.append("        const int ty = (").append(idx[2]).append(") + ").append(pt).append(" - ky * ").append(dh).append(";\n");
            b.append("        if (ty < 0 || ty % ").append(sh).append(" != 0 || ty / ").append(sh).append(" >= ").append(x.dim(2)).append(") continue;\n");
            b.append("        const int iy = ty / ").append(sh).append(";\n");
            b.append("        for (int kx = 0; kx < ").append(kw).append("; kx++) {\n");
            b.append("            const int tx = (").append(idx[3]).append(") + ").append(pl).append(" - kx * ").append(dw).append(";\n");
            b.append("            if (tx < 0 || tx % ").append(sw).append(" != 0 || tx / ").append(sw).append(" >= ").append(x.dim(3)).append(") continue;\n");
            b.append("            const int ix = tx / ").append(sw).append(";\n");
            b.append("            for (int ic = g0; ic < g0 + ").append(cg).append("; ic++)\n");
            b.append("                s = fma(").append(x.at(idx[0], "ic", "iy", "ix")).append(", ").append(w.at("ic", "j", "ky", "kx")).append(", s);\n");
            b.append("        }\n    }\n");
            return Code.epilogue("s", t.epilogue(), t.epilogue().hasExtra() ? r.in(3).at(idx) : null);
        });
    }
}
