package dev.kiln.backend.opencl;

import dev.kiln.ir.op.FusedExpandDwPwConv;

/**
 * FusedExpandDwPwConv as one kernel: the dw+pw GEMM of {@link ConvKernels} whose B element (the
 * depthwise result of channel k at a pixel) computes the expanded values under its window on the
 * spot, CIN multiply-adds each, instead of reading them from a stored expanded tensor. The
 * backend has no scratch buffers between kernels, so recomputing (KH·KW times per expanded value)
 * is the price of one kernel; correct everywhere, fast where the expansion is narrow. A tap
 * outside the image reads the depthwise's zero padding, not the expansion of a zero pixel.
 */
final class ExpandDwPwKernels {
    private ExpandDwPwKernels() {}

    static Kernel generate(KernelRequest r, FusedExpandDwPwConv f) {
        View x = r.in(0), ew = r.in(1), eb = r.in(2), dw = r.in(3), dwBias = r.in(4), pw = r.in(5), y = r.out();
        int cin = x.dim(1), mid = ew.dim(0), pixels = y.dim(0) * y.dim(2) * y.dim(3);
        int[] stride = f.stride().toArray(), pad = f.padding().toArray(), dil = f.dilation().toArray();
        ConvKernels.Conv geometry = new ConvKernels.Conv(stride, pad, dil, mid, true, f.epilogue());
        GemmKernel.Shape s = new GemmKernel.Shape(1, pw.dim(0), pixels, mid);
        GemmKernel.Operands ops = new GemmKernel.Operands() {
            @Override public String loadA() { return "v = " + pw.at("m", "k", "0", "0") + ";"; }

            @Override public String loadB() {
                StringBuilder b = new StringBuilder();
                ConvKernels.pixel(b, "n", y);
                b.append("float s = ").append(dwBias.at("k")).append(";\n");
                b.append("#pragma unroll\nfor (int ky = 0; ky < ").append(dw.dim(2)).append("; ky++) {\n");
                b.append("#pragma unroll\nfor (int kx = 0; kx < ").append(dw.dim(3)).append("; kx++) {\n");
                b.append("const int iy = q_oy * ").append(stride[0]).append(" + ky * ").append(dil[0]).append(" - ").append(pad[0]).append(";\n");
                b.append("const int ix = q_ox * ").append(stride[1]).append(" + kx * ").append(dil[1]).append(" - ").append(pad[1]).append(";\n");
                b.append("if (iy >= 0 && iy < ").append(x.dim(2)).append(" && ix >= 0 && ix < ").append(x.dim(3)).append(") {\n");
                b.append("float e = ").append(eb.at("k")).append(";\n");
                b.append("for (int c = 0; c < ").append(cin).append("; c++) e = fma(")
                        .append(ew.at("k", "c", "0", "0")).append(", ").append(x.at("q_img", "c", "iy", "ix")).append(", e);\n");
                b.append("s = fma(").append(Code.activation(f.expandAct(), "e")).append(", ").append(dw.at("k", "0", "ky", "kx")).append(", s);\n");
                b.append("}\n}\n}\n");
                b.append("v = ").append(Code.activation(f.midAct(), "s")).append(";\n");
                return b.toString();
            }

            @Override public String store(String value) { return ConvKernels.storePixel(r, geometry, "n", "m", value, 6); }

            @Override public boolean aAlongK() { return true; }
            @Override public boolean bAlongK() { return false; }
        };
        return GemmKernel.generate(r, s, ops, GemmTiling.choose(1, s.m(), s.n(), s.k(), true, r.limits()));
    }
}
