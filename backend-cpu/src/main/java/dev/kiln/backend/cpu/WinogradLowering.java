package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.WinogradInputKernel;
import dev.kiln.backend.cpu.kernels.WinogradOutputKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;

/**
 * Dense 3×3 stride-1 convolutions by Winograd F(2×2, 3×3) (Lavin and Gray, 2015): each 2×2 output
 * tile costs 16 multiplies per (input, output channel) pair instead of 36, so the GEMM work is
 * 16/36 = 1/2.25 of direct convolution's. Three steps per chunk of tiles:
 * <ol>
 *   <li>{@link WinogradInputKernel}: V[ξ] = Bᵀ·d·B per 4×4 input tile and channel, into scratch as
 *       the GEMM's packed panels [16][C × tiles];</li>
 *   <li>{@link dev.kiln.backend.cpu.kernels.GemmKernel}, batched over the 16 ξ: M[ξ] = U[ξ]·V[ξ],
 *       U[ξ] (O×C) = G·g·Gᵀ transformed and packed once at compile time;</li>
 *   <li>{@link WinogradOutputKernel}: Y = Aᵀ·M·A per tile, + bias and epilogue, into the result.</li>
 * </ol>
 * Tiles are numbered over every image of the batch, so small images still fill the GEMM's columns.
 */
final class WinogradLowering {
    private WinogradLowering() {}

    /**
     * Floats of V and M one chunk of tiles may use: 16·(C + O)·4 bytes per tile are written and
     * read back once, so a chunk within about 1 MiB keeps that round trip in a core's L2 rather
     * than memory (at 64→64 the whole 56² image would move 12.8 MB: 0.5–0.8 ms at 16–28 GB/s,
     * as long as its GEMMs). A chunk keeps at least 4 GEMM column tiles, and a conv at most 8
     * chunks, since each chunk is three more kernels to specialise and dispatch.
     */
    static final int CHUNK_BYTES = 1 << 20, MAX_CHUNKS = 8;

    /** What Winograd F(2×2,3×3) computes exactly: a dense 3×3 conv, stride 1, dilation 1, with weights known at compile time. */
    static boolean applies(LoweringContext ctx, Node n, Conv2d c, Placement w) {
        return c.groups() == 1 && w.dims()[2] == 3 && w.dims()[3] == 3
                && c.stride().get(0) == 1 && c.stride().get(1) == 1 && c.dilation().get(0) == 1 && c.dilation().get(1) == 1
                && ctx.constant(n.inputs().get(1)) != null;
    }

    /**
     * Whether "auto" may pick Winograd at all. Not yet: on two busy cores (tests and a property run
     * beside), the generator model with Winograd convs still allocated 590 KB per call after 45 s
     * of calls — some Winograd kernel left running boxed, not C2-compiled with intrinsics — where
     * on a quiet machine it reached 0 B within 1.5 s; until that is understood, Winograd runs only
     * when asked for (option conv=winograd), and the rule below is what auto will use.
     */
    static final boolean IN_AUTO = false;

    /**
     * Where it pays (the "auto" rule, once {@link #IN_AUTO}). Per output pixel, direct conv does 9·C·O multiply-adds;
     * Winograd's GEMMs do 4·C·O, plus transforms of ~8·C adds (input: 32 adds and 16 gathered
     * loads per tile and channel) and ~6·O (output: 24 per tile and output channel), memory
     * traffic of 4·(C+O) floats written and read back (V and M are 4× the input and output), and
     * idle work on half-empty edge tiles. The transforms add a fraction ~2/O + 1.5/C to the GEMMs'
     * operations: at C = O = 16 about 22 %, so 4.9 against direct's 9 (1.8× fewer), approaching
     * 2.25× as channels grow; below 16 the GEMM's 8-row tiles also run part empty. Outputs of at
     * least 8×8 keep the edge tiles' waste under 25 % (7×7 computes 8×8: +31 %, and a single
     * image's 16 tiles fill half of one GEMM column tile). Measured at 256→256 @ 14² (2 threads,
     * step profile after warm-up, one noisy run): 1.8 ms against the direct kernel's 3.8 ms.
     * ConvBenchmark, one fork each: 769 vs 1,634 µs at 256→256 @ 14², 1,638 vs 3,302 at 512→512 @ 7²
     * (so 7×7 pays too, despite the rule below), 1,487 vs 1,391 at 128→128 @ 28².
     */
    static boolean pays(Placement x, Placement y) {
        return x.dims()[1] >= 16 && y.dims()[1] >= 16 && y.dims()[2] >= 8 && y.dims()[3] >= 8;
    }

    static void conv(LoweringContext ctx, Node n, Placement x, Placement w, Placement b, Placement e, Placement y, Conv2d conv, Epilogue epi) {
        int images = y.dims()[0], ch = w.dims()[1], o = w.dims()[0], oh = y.dims()[2], ow = y.dims()[3];
        int th = (oh + 1) / 2, tw = (ow + 1) / 2, tiles = images * th * tw, nr = GemmLowering.NR;
        int[] pad = conv.padding().toArray();
        // an odd output's last tile reads one row (column) past the padding: widen the zero halo there
        Placement xp = ConvLowering.padded(ctx, n, x, new int[]{pad[0], pad[1], pad[2] + oh % 2, pad[3] + ow % 2});
        int chunk = Math.max(CHUNK_BYTES / (16 * 4 * (ch + o)), 4 * nr);
        chunk = Math.min(tiles, Math.max(chunk, (tiles + MAX_CHUNKS - 1) / MAX_CHUNKS));
        chunk = chunk >= tiles ? tiles : (chunk + nr - 1) / nr * nr;
        int tp = (chunk + nr - 1) / nr * nr;
        int v = ctx.scratch(16 * ch * tp), m = ctx.scratch(16 * o * tp);
        float[][] u = transformedWeights(ctx.constant(n.inputs().get(1)));
        int uSlot = ctx.weight(u[0]), upSlot = u[1] == null ? 0 : ctx.weight(u[1]);
        Placement ev = e == null ? y : e;
        for (int t0 = 0; t0 < tiles; t0 += chunk) {
            int ct = Math.min(chunk, tiles - t0), ctp = (ct + nr - 1) / nr * nr, nbv = (ct + GemmLowering.NR / 2 - 1) / (GemmLowering.NR / 2);
            Params in = Params.of().put("X_SLOT", xp.slot()).put("X_OFF", xp.offset() - pad[0] * xp.strides()[2] - pad[1])
                    .put("X_S0", xp.strides()[0]).put("X_S1", xp.strides()[1]).put("X_S2", xp.strides()[2])
                    .put("V_SLOT", LoweringContext.ARENA).put("V_OFF", v).put("C", ch).put("T0", t0).put("TILES", ct).put("TH", th).put("TW", tw);
            ctx.addKernel(n.describe() + " (winograd input)", WinogradInputKernel.class, in, ch * nbv);
            Params g = Params.of()
                    .put("A_SLOT", uSlot).put("A_OFF", 0).put("A_RS", ch).put("A_CS", 1).put("A_BS0", o * ch).put("A_BS1", 0)
                    .put("B_SLOT", LoweringContext.ARENA).put("B_OFF", v).put("B_RS", nr).put("B_BS0", ch * ctp).put("B_BS1", 0).put("B_PANEL", 1)
                    .put("C_SLOT", LoweringContext.ARENA).put("C_OFF", m).put("C_RS", ctp).put("C_BS0", o * ctp).put("C_BS1", 0).put("BD1", 1)
                    .put("M", o).put("N", ct).put("K", ch)
                    .put("BIAS_MODE", 0).put("BIAS_SLOT", 0).put("BIAS_OFF", 0)
                    .put("E_SLOT", LoweringContext.ARENA).put("E_OFF", m).put("E_RS", ctp).put("E_BS0", o * ctp).put("E_BS1", 0)
                    .put("A_PACK", upSlot == 0 ? 0 : 1).put("AP_SLOT", upSlot).put("AP_OFF", 0)
                    .epilogue(Epilogue.NONE);
            GemmLowering.emit(ctx, n, " (winograd gemm)", g, 16, o, ct, ch);
            Params out = Params.of().put("M_SLOT", LoweringContext.ARENA).put("M_OFF", m).put("O", o)
                    .put("T0", t0).put("TILES", ct).put("TH", th).put("TW", tw).put("OH", oh).put("OW", ow)
                    .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("Y_S0", y.strides()[0]).put("Y_S1", y.strides()[1]).put("Y_S2", y.strides()[2])
                    .put("E_SLOT", ev.slot()).put("E_OFF", ev.offset()).put("E_S0", ev.strides()[0]).put("E_S1", ev.strides()[1]).put("E_S2", ev.strides()[2])
                    .put("B_SLOT", b.slot()).put("B_OFF", b.offset()).epilogue(epi);
            ctx.kernel(n, WinogradOutputKernel.class, out, o * nbv);
        }
    }

    /**
     * U[ξ] = G·g·Gᵀ for every (o, c), G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]], in double then
     * rounded once: [16][O][C] for the GEMM's unpacked rows, and its full 8-row blocks packed
     * per ξ as {@link GemmLowering#packRowBlocks} does (null when O &lt; 8).
     */
    static float[][] transformedWeights(HostTensor weight) {
        int o = weight.shape().dim(0), ch = weight.shape().dim(1);
        float[] g = weight.data(), u = new float[16 * o * ch];
        double[][] gm = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
        for (int oc = 0; oc < o * ch; oc++) {
            double[][] t = new double[4][3];
            for (int i = 0; i < 4; i++)
                for (int kx = 0; kx < 3; kx++)
                    for (int ky = 0; ky < 3; ky++) t[i][kx] += gm[i][ky] * g[oc * 9 + ky * 3 + kx];
            for (int i = 0; i < 4; i++)
                for (int k = 0; k < 4; k++) {
                    double s = 0;
                    for (int kx = 0; kx < 3; kx++) s += t[i][kx] * gm[k][kx];
                    u[(4 * i + k) * o * ch + oc] = (float) s;
                }
        }
        if (o < 8) return new float[][]{u, null};
        int block = o / 8 * ch * 8;
        float[] packed = new float[16 * block];
        for (int xi = 0; xi < 16; xi++) {
            float[] one = GemmLowering.packRowBlocks(java.util.Arrays.copyOfRange(u, xi * o * ch, (xi + 1) * o * ch), o, ch);
            System.arraycopy(one, 0, packed, xi * block, block);
        }
        return new float[][]{u, packed};
    }
}
