package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedDwPwConv;

/**
 * Convolutions. A general (or grouped) convolution is an implicit GEMM per group: M = output
 * channels of the group, N = output pixels, K = input channels × kernel window; its B tile is
 * gathered straight from the input. A depthwise convolution (one input channel per group) has
 * nothing to share between output channels and runs one work-item per output. FusedDwPwConv is
 * a GEMM over channels whose B tile, the depthwise result for bk channels × bn pixels, is
 * computed into local memory and consumed there: the intermediate never reaches global memory.
 *
 * <p>Reads skip bounds checks wherever the memory plan's halo already holds the padding zeros.
 */
final class ConvKernels {
    private ConvKernels() {}

    /** A convolution's attributes and epilogue, for Conv2d and the depthwise half of FusedDwPwConv alike. */
    record Conv(int[] stride, int[] padding, int[] dilation, int groups, boolean hasBias, Epilogue epilogue) {}

    static Kernel conv(KernelRequest r, Conv c) {
        View x = r.in(0), w = r.in(1), y = r.out();
        int cg = w.dim(1), kh = w.dim(2), kw = w.dim(3), o = w.dim(0);
        if (cg == 1 && c.groups() == x.dim(1)) return depthwise(r, c);
        int og = o / c.groups();
        int pixels = y.dim(0) * y.dim(2) * y.dim(3);
        GemmKernel.Shape s = new GemmKernel.Shape(c.groups(), og, pixels, cg * kh * kw);
        String oc = c.groups() == 1 ? "m" : "(b * " + og + " + m)";
        String ic = c.groups() == 1 ? "q_c" : "(b * " + cg + " + q_c)";
        GemmKernel.Operands ops = new GemmKernel.Operands() {
            @Override public String loadA() {
                if (w.isContiguous()) return "v = " + w.reshape(new int[]{o, cg * kh * kw}).at(oc, "k") + ";";
                String[] k = Code.unravel("k", new int[]{cg, kh, kw});
                return "v = " + w.at(oc, k[0], k[1], k[2]) + ";";
            }

            @Override public String loadB() {
                StringBuilder b = new StringBuilder();
                String[] k = Code.unravel("k", new int[]{cg, kh, kw});
                b.append("const int q_c = ").append(k[0]).append(", q_ky = ").append(k[1]).append(", q_kx = ").append(k[2]).append(";\n");
                pixel(b, "n", y);
                b.append(read(x, c, "q_img", ic, "q_oy", "q_ox", "q_ky", "q_kx", "v = %s;"));
                return b.toString();
            }

            @Override public String store(String value) { return storePixel(r, c, "n", oc, value); }
            @Override public boolean aAlongK() { return true; }
            @Override public boolean bAlongK() { return false; }
        };
        View a = w.isContiguous() ? w.reshape(new int[]{c.groups(), og, cg * kh * kw}) : null;
        return GemmKernel.gemm(r, s, ops, new CpuDeviceGemm.Direct(a, pointwiseB(x, c, kh, kw)), false);
    }

    /**
     * A 1×1 convolution of one image with unit stride and no padding reads B(k, n) = x[0][k][n]
     * as a plain matrix (its pixels consecutive when x is stored densely): [groups, cg, pixels].
     */
    private static View pointwiseB(View x, Conv c, int kh, int kw) {
        boolean unit = kh == 1 && kw == 1 && x.dim(0) == 1 && x.isContiguous();
        for (int i = 0; i < 2 && unit; i++) unit = c.stride()[i] == 1 && c.padding()[i] == 0 && c.padding()[i + 2] == 0;
        return unit ? x.reshape(new int[]{c.groups(), x.dim(1) / c.groups(), x.dim(2) * x.dim(3)}) : null;
    }

    /** One work-item per output: bias plus the window of its single input channel. */
    private static Kernel depthwise(KernelRequest r, Conv c) {
        View x = r.in(0), w = r.in(1);
        int multiplier = w.dim(0) / x.dim(1);
        return MapKernels.map(r, (b, idx, p) -> {
            String ch = multiplier == 1 ? idx[1] : "(" + idx[1] + " / " + multiplier + ")";
            b.append("    float s = ").append(c.hasBias() ? r.in(2).at(idx[1]) : "0.0f").append(";\n");
            b.append(GemmKernel.indent(window(x, c, w.dim(2), w.dim(3), idx[0], ch, idx[2], idx[3],
                    "s = fma(%s, " + w.at(idx[1], "0", "ky", "kx") + ", s);"), "    "));
            return Code.epilogue("s", c.epilogue(), c.epilogue().hasExtra() ? last(r).at(idx) : null);
        });
    }

    static Kernel dwPw(KernelRequest r, FusedDwPwConv f) {
        View x = r.in(0), dw = r.in(1), dwBias = r.in(2), pw = r.in(3), y = r.out();
        int channels = x.dim(1), pixels = y.dim(0) * y.dim(2) * y.dim(3);
        Conv geometry = new Conv(f.stride().toArray(), f.padding().toArray(), f.dilation().toArray(), channels, true, f.epilogue());
        GemmKernel.Shape s = new GemmKernel.Shape(1, pw.dim(0), pixels, channels);
        GemmKernel.Operands ops = new GemmKernel.Operands() {
            @Override public String loadA() { return "v = " + pw.at("m", "k", "0", "0") + ";"; }

            @Override public String loadB() {
                StringBuilder b = new StringBuilder();
                pixel(b, "n", y);
                b.append("float s = ").append(dwBias.at("k")).append(";\n");
                b.append(window(x, geometry, dw.dim(2), dw.dim(3), "q_img", "k", "q_oy", "q_ox",
                        "s = fma(%s, " + dw.at("k", "0", "ky", "kx") + ", s);"));
                b.append("v = ").append(Code.activation(f.midAct(), "s")).append(";\n");
                return b.toString();
            }

            @Override public String store(String value) { return storePixel(r, geometry, "n", "m", value, 4); }

            @Override public boolean aAlongK() { return true; }
            @Override public boolean bAlongK() { return false; }
        };
        return GemmKernel.generate(r, s, ops, GemmTiling.choose(1, s.m(), s.n(), s.k(), true, r.limits()));
    }

    /** Declares q_img, q_oy, q_ox: output pixel n of y's [N, OH, OW]. */
    static void pixel(StringBuilder b, String n, View y) {
        String[] q = Code.unravel(n, new int[]{y.dim(0), y.dim(2), y.dim(3)});
        b.append("const int q_img = ").append(q[0]).append(", q_oy = ").append(q[1]).append(", q_ox = ").append(q[2]).append(";\n");
    }

    /** Statements that apply action (a format with the input element as %s) if input (img, ch, iy, ix) is inside or in the halo. */
    private static String read(View x, Conv c, String img, String ch, String oy, String ox, String ky, String kx, String action) {
        StringBuilder b = new StringBuilder();
        b.append("const int iy = ").append(coord(oy, c.stride()[0], ky, c.dilation()[0], c.padding()[0])).append(";\n");
        b.append("const int ix = ").append(coord(ox, c.stride()[1], kx, c.dilation()[1], c.padding()[1])).append(";\n");
        String body = action.replace("%s", x.at(img, ch, "iy", "ix"));
        if (x.haloCovers(c.padding())) b.append(body).append('\n');
        else b.append("if (iy >= 0 && iy < ").append(x.dim(2)).append(" && ix >= 0 && ix < ").append(x.dim(3)).append(") ")
                .append(body).append('\n');
        return b.toString();
    }

    /** The kernel window as two constant loops around read(). */
    private static String window(View x, Conv c, int kh, int kw, String img, String ch, String oy, String ox, String action) {
        return "#pragma unroll\nfor (int ky = 0; ky < " + kh + "; ky++) {\n#pragma unroll\nfor (int kx = 0; kx < " + kw + "; kx++) {\n"
                + read(x, c, img, ch, oy, ox, "ky", "kx", action) + "}\n}\n";
    }

    /** o·stride + k·dilation − pad, with the unit factors and zero terms left out. */
    private static String coord(String o, int stride, String k, int dilation, int pad) {
        String e = (stride == 1 ? o : o + " * " + stride) + " + " + (dilation == 1 ? k : k + " * " + dilation);
        return pad == 0 ? e : e + " - " + pad;
    }

    /** The extra (residual or gate) operand: always the last. */
    private static View last(KernelRequest r) { return r.in(r.in().size() - 1); }

    private static String storePixel(KernelRequest r, Conv c, String n, String oc, String value) {
        return storePixel(r, c, n, oc, value, 2);
    }

    /** Stores pixel n of output channel oc: bias (operand biasIndex) added, then the epilogue. */
    static String storePixel(KernelRequest r, Conv c, String n, String oc, String value, int biasIndex) {
        StringBuilder b = new StringBuilder();
        pixel(b, n, r.out());
        String[] at = {"q_img", oc, "q_oy", "q_ox"};
        String t = c.hasBias() ? value + " + " + r.in(biasIndex).at(oc) : value;
        String extra = c.epilogue().hasExtra() ? last(r).at(at) : null;
        b.append(r.out().at(at)).append(" = ").append(Code.epilogue(t, c.epilogue(), extra)).append(";\n");
        return b.toString();
    }
}
