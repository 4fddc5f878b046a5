package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Col2imKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.Epilogue;

/**
 * A transposed convolution as a GEMM and a col2im. Per image and group, every input pixel times
 * every tap is one product: C[(j, ky, kx), iy·W + ix] = Σ_c W[c, j, ky, kx] · X[c, iy·W + ix],
 * a GEMM of M = O/groups·KH·KW rows, K = C/groups and N = H·W columns on the shared GEMM kernel
 * (its A is the weight read transposed in place, or packed into row blocks at compile time when
 * constant). Then {@link Col2imKernel} sums the taps onto each output row, adds the bias and
 * applies the epilogue. A scatter loop would write each output element from KH·KW/(SH·SW)
 * places and need per-thread copies or locks; the GEMM does all the multiply-adds and the
 * col2im only adds. Costs a column buffer of O·KH·KW·H·W floats per image in scratch.
 */
final class ConvTransposeLowering {
    private ConvTransposeLowering() {}

    static void convTranspose(LoweringContext ctx, Node n, ConvTranspose2d t) {
        Placement x = ctx.of(n.inputs().getFirst());
        if (!GemmLowering.flatPlanes(x)) x = GemmLowering.contiguous(ctx, n, x);
        Placement w = ConvLowering.contiguousOperand(ctx, n, n.inputs().get(1), "weight"), y = ctx.of(n.name());
        int images = x.dims()[0], groups = t.groups(), cg = w.dims()[0] / groups, og = w.dims()[1];
        int kh = w.dims()[2], kw = w.dims()[3], h = x.dims()[2], wi = x.dims()[3], hw = h * wi, m = og * kh * kw;
        long floats = (long) images * groups * m * hw;
        if (floats > Integer.MAX_VALUE / 2)
            throw new UnsupportedOpException("the cpu backend's transposed conv needs a column buffer of " + floats + " floats, too large");
        int cols = ctx.scratch((int) floats);
        Placement b = n.inputs().size() > 2 ? ConvLowering.contiguousOperand(ctx, n, n.inputs().get(2), "bias")
                : Placement.contiguous(ctx.weight(new float[y.dims()[1]]), 0, TensorType.f32(y.dims()[1]));

        Params gemm = Params.of()
                .put("A_SLOT", w.slot()).put("A_OFF", w.offset()).put("A_RS", 1).put("A_CS", m).put("A_BS0", 0).put("A_BS1", groups > 1 ? cg * m : 0)
                .put("B_SLOT", x.slot()).put("B_OFF", x.offset()).put("B_RS", x.strides()[1]).put("B_BS0", x.strides()[0])
                .put("B_BS1", cg * x.strides()[1]).put("B_PANEL", 0)
                .put("C_SLOT", LoweringContext.ARENA).put("C_OFF", cols).put("C_RS", hw).put("C_BS0", groups * m * hw).put("C_BS1", m * hw).put("BD1", groups)
                .put("M", m).put("N", hw).put("K", cg)
                .put("BIAS_MODE", 0).put("BIAS_SLOT", 0).put("BIAS_OFF", 0)
                .put("E_SLOT", LoweringContext.ARENA).put("E_OFF", 0).put("E_RS", 0).put("E_BS0", 0).put("E_BS1", 0).epilogue(Epilogue.NONE);
        HostTensor constantW = ctx.constant(n.inputs().get(1));
        // a packed A is one set of row blocks per GEMM batch (image·groups + group): per group, so only for one image when grouped
        if (constantW != null && m >= 8 && (groups == 1 || images == 1))
            gemm.put("A_PACK", 1).put("AP_SLOT", ctx.weight(packedGroups(constantW.data(), groups, cg, m))).put("AP_OFF", 0);
        else gemm.put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
        GemmLowering.emit(ctx, n, " (columns)", gemm, images * groups, m, hw, cg);

        Placement e = t.epilogue().hasExtra() ? ctx.of(n.inputs().get(3)) : y;
        if (e.strides()[3] != 1 || y.strides()[3] != 1)
            throw new UnsupportedOpException("the cpu backend's transposed conv needs unit stride along the result's rows");
        Params p = Params.of().put("C_SLOT", LoweringContext.ARENA).put("C_OFF", cols)
                .put("G", groups).put("OG", og).put("KH", kh).put("KW", kw).put("H", h).put("W", wi)
                .put("OH", y.dims()[2]).put("OW", y.dims()[3]).put("SH", t.stride().get(0)).put("SW", t.stride().get(1))
                .put("DH", t.dilation().get(0)).put("DW", t.dilation().get(1)).put("PT", t.padding().get(0)).put("PL", t.padding().get(1))
                .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("Y_S0", y.strides()[0]).put("Y_S1", y.strides()[1]).put("Y_S2", y.strides()[2])
                .put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_S0", e.strides()[0]).put("E_S1", e.strides()[1]).put("E_S2", e.strides()[2])
                .put("B_SLOT", b.slot()).put("B_OFF", b.offset()).epilogue(t.epilogue());
        ctx.kernel(n, Col2imKernel.class, p, y.dims()[0] * y.dims()[1] * y.dims()[2]);
    }

    /** Per group, Wᵀ ([M][K] with A[m][k] = w[(g·K + k)·M + m]) in the GEMM's 8-row blocks, groups one after another. */
    private static float[] packedGroups(float[] w, int groups, int k, int m) {
        int per = m / 8 * k * 8;
        float[] out = new float[groups * per], at = new float[m * k];
        for (int g = 0; g < groups; g++) {
            for (int q = 0; q < k; q++)
                for (int r = 0; r < m; r++) at[r * k + q] = w[(g * k + q) * m + r];
            System.arraycopy(GemmLowering.packRowBlocks(at, m, k), 0, out, g * per, per);
        }
        return out;
    }
}
