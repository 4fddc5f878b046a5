package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.GemmKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import jdk.incubator.vector.FloatVector;

/** Linear layers (weights packed into panels at compile time) and batched matmuls of runtime operands. */
final class GemmLowering {
    static final int NR = 2 * FloatVector.SPECIES_PREFERRED.length();

    private GemmLowering() {}

    static void linear(LoweringContext ctx, Node n, Epilogue epi) {
        Placement x = contiguous(ctx, n, ctx.of(n.inputs().getFirst())), out = ctx.of(n.name());
        // a haloed result (read by a padded conv) is computed contiguously, then copied inside its halo
        Placement y = out.isContiguous() ? out : Placement.contiguous(LoweringContext.ARENA, ctx.scratch((int) out.elements()), TensorType.f32(out.dims()));
        HostTensor w = ctx.constant(n.inputs().get(1));
        if (w == null) throw new UnsupportedOpException(n.describe() + ": the cpu backend needs linear weights as a constant");
        int outF = w.shape().dim(0), k = w.shape().dim(1), rows = (int) (y.elements() / outF);
        Params p = Params.of()
                .put("A_SLOT", x.slot()).put("A_OFF", x.offset()).put("A_RS", k).put("A_CS", 1).put("A_BS0", 0).put("A_BS1", 0)
                .put("B_SLOT", ctx.weight(packPanels(w))).put("B_OFF", 0).put("B_RS", NR).put("B_BS0", 0).put("B_BS1", 0).put("B_PANEL", 1)
                .put("C_SLOT", y.slot()).put("C_OFF", y.offset()).put("C_RS", outF).put("C_BS0", 0).put("C_BS1", 0).put("BD1", 1)
                .put("M", rows).put("N", outF).put("K", k);
        Placement bias = n.inputs().size() > 2 ? ctx.of(n.inputs().get(2)) : null;
        p.put("BIAS_MODE", bias == null ? 0 : 2).put("BIAS_SLOT", bias == null ? 0 : bias.slot()).put("BIAS_OFF", bias == null ? 0 : bias.offset());
        Placement e = epi.hasExtra() ? contiguous(ctx, n, ctx.of(n.inputs().get(3))) : y;
        p.put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_RS", outF).put("E_BS0", 0).put("E_BS1", 0).epilogue(epi);
        packA(ctx, n, p, x.slot(), x.offset(), k, 1, rows, k);
        emit(ctx, n, p, 1, rows, outF, k);
        if (y != out) {
            Placement y4 = y.as4d(), o4 = out.as4d();
            MovementLowering.copy(ctx, n, " (into halo)", o4.dims(), y4.slot(), y4.offset(), y4.strides(), o4.slot(), o4.offset(), o4.strides());
        }
    }

    /**
     * A 1×1 convolution (stride 1, no padding, one group) is a GEMM per image: Y[O, HW] =
     * W[O, C] · X[C, HW], bias per row. The direct conv kernel tiles one output row at a time,
     * which wastes most of its 2-vector pixel tile on narrow images (12 of 32 lanes used at
     * width 12); the GEMM tiles the flattened H·W instead. Needs X's and E's H×W planes
     * unbroken (no halo inside them; the caller checks {@link #flatPlanes}); Y may carry a halo.
     */
    static void pointwiseConv(LoweringContext ctx, Node n, Placement x, Placement w, Placement b, Placement e, Placement y,
                              Epilogue epi) {
        int c = w.dims()[1], hw = y.dims()[2] * y.dims()[3];
        Params p = convParams(ctx, n, w, b, e, y, epi, c, c >= 16)
                .put("B_SLOT", x.slot()).put("B_OFF", x.offset()).put("B_RS", x.strides()[1]).put("B_BS0", x.strides()[0]).put("B_BS1", 0).put("B_PANEL", 0);
        emit(ctx, n, p, y.dims()[0], w.dims()[0], hw, c);
    }

    /**
     * A dense convolution as an implicit GEMM (GemmKernel's B_PANEL=2): Y[O, OH·OW] =
     * W[O, C·KH·KW] · im2col(X) per image, the columns packed per task from the haloed input,
     * so padding costs nothing. E needs unbroken H×W planes; a Y planned with a halo is stored
     * inside it row segment by row segment.
     */
    static void im2colConv(LoweringContext ctx, Node n, Placement x, Placement w, Placement b, Placement e, Placement y,
                           Conv2d c, Epilogue epi) {
        int k = w.dims()[1] * w.dims()[2] * w.dims()[3], hw = y.dims()[2] * y.dims()[3], images = y.dims()[0];
        int m = w.dims()[0], mb = (m + 7) / 8, tiles = (hw + NR - 1) / NR;
        // a task packs its column chunk once and sweeps its row blocks over it: chunks whose panel fits
        // in L2, at least 16 tasks for the threads' claimed grains, then row-block chunks for the rest
        int tilesPerChunk = Math.max(1, B_CHUNK_BYTES / (k * NR * 4));
        int nch = Math.max((tiles + tilesPerChunk - 1) / tilesPerChunk, Math.min(tiles, 16 / images));
        int mch = Math.max(1, Math.min(mb, (16 + images * nch - 1) / (images * nch)));
        HostTensor constantW = ctx.constant(n.inputs().get(1));
        if (constantW != null && ChannelGemmLowering.pays(m, hw)) {
            // small planes: vectorised along the output channels, whose count fills the vector tiles (ChannelGemmKernel)
            ChannelGemmLowering.conv(ctx, n, convInput(Params.of(), x, w, y, c), constantW, b, e, y, epi);
            return;
        }
        long packed = (long) images * tiles * k * NR;
        Placement matrix = Placement.contiguous(w.slot(), w.offset(), TensorType.f32(m, k));
        Params p = convParams(ctx, n, matrix, b, e, y, epi, k, true);
        if (mch > 1 && packed <= PACKED_COLUMNS) {
            // each row chunk would pack the same columns again (small images: a gather per k, since
            // their tiles cross rows), so pack every tile once into scratch and run a plain GEMM on it
            int dst = packColumns(ctx, n, x, w, y, c, images, tiles, m, hw, k, mb);
            p.put("B_SLOT", LoweringContext.ARENA).put("B_OFF", dst).put("B_RS", NR).put("B_BS0", tiles * k * NR).put("B_BS1", 0).put("B_PANEL", 1);
            emit(ctx, n, p, images, m, hw, k);
            return;
        }
        convInput(p, x, w, y, c).put("B_SLOT", x.slot()).put("B_OFF", 0).put("B_RS", NR).put("B_BS0", 0).put("B_BS1", 0).put("B_PANEL", 2);
        p.put("MB", mb).put("NCH", nch).put("MCH", mch);
        ctx.kernel(n, GemmKernel.class, p, images * mch * nch);
    }

    /** A step that packs every column tile of the conv's im2col matrix once into scratch ([image][tile][K][NR], GemmKernel's B_PANEL=3); returns where. */
    private static int packColumns(LoweringContext ctx, Node n, Placement x, Placement w, Placement y, Conv2d c, int images, int tiles, int m, int hw, int k, int mb) {
        int perImage = tiles * k * NR, dst = ctx.scratch(images * perImage);
        Params pack = convInput(Params.of(), x, w, y, c).put("B_PANEL", 3)
                .put("C_SLOT", LoweringContext.ARENA).put("C_OFF", dst).put("C_RS", 0).put("C_BS0", perImage).put("C_BS1", 0).put("BD1", 1).put("C_W", 0).put("C_S2", 0)
                .put("M", m).put("N", hw).put("K", k).put("MB", mb).put("NCH", 1).put("MCH", 1)
                .put("BIAS_MODE", 0).put("BIAS_SLOT", 0).put("BIAS_OFF", 0).epilogue(Epilogue.NONE)
                .put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
        for (String q : new String[]{"A_SLOT", "A_OFF", "A_RS", "A_CS", "A_BS0", "A_BS1", "B_SLOT", "B_OFF", "B_RS", "B_BS0", "B_BS1",
                "E_SLOT", "E_OFF", "E_RS", "E_BS0", "E_BS1"}) pack.put(q, 0);
        ctx.addKernel(n.describe() + " (pack columns)", GemmKernel.class, pack, images * tiles);
        return dst;
    }

    /** Floats of packed columns a conv may materialise in scratch instead of packing them once per row chunk (4 MiB). */
    private static final int PACKED_COLUMNS = 1 << 20;

    /** GemmKernel's conv input X and geometry, for B_PANEL 2 (packed per task) and 3 (packed once into C). */
    static Params convInput(Params p, Placement x, Placement w, Placement y, Conv2d c) {
        return p.put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("X_S0", x.strides()[0]).put("X_S1", x.strides()[1]).put("X_S2", x.strides()[2])
                .put("CIN", w.dims()[1]).put("KH", w.dims()[2]).put("KW", w.dims()[3]).put("OW", y.dims()[3])
                .put("SH", c.stride().get(0)).put("SW", c.stride().get(1)).put("DH", c.dilation().get(0)).put("DW", c.dilation().get(1))
                .put("PT", c.padding().get(0)).put("PL", c.padding().get(1));
    }

    /** A, C, bias and epilogue of a conv as GEMM: A = the weight matrix [O, K], packed into row blocks at compile time when constant. */
    private static Params convParams(LoweringContext ctx, Node n, Placement w, Placement b, Placement e, Placement y, Epilogue epi, int k, boolean packable) {
        int o = w.dims()[0];
        Params p = Params.of()
                .put("A_SLOT", w.slot()).put("A_OFF", w.offset()).put("A_RS", k).put("A_CS", 1).put("A_BS0", 0).put("A_BS1", 0)
                .put("C_SLOT", y.slot()).put("C_OFF", y.offset()).put("C_RS", y.strides()[1]).put("C_BS0", y.strides()[0]).put("C_BS1", 0).put("BD1", 1)
                .put("C_W", flatPlanes(y) ? 0 : y.dims()[3]).put("C_S2", y.strides()[2])
                .put("M", o).put("N", y.dims()[2] * y.dims()[3]).put("K", k)
                .put("BIAS_MODE", 1).put("BIAS_SLOT", b.slot()).put("BIAS_OFF", b.offset());
        Placement ev = e == null ? y : e;
        p.put("E_SLOT", ev.slot()).put("E_OFF", ev.offset()).put("E_RS", ev.strides()[1]).put("E_BS0", ev.strides()[0]).put("E_BS1", 0).epilogue(epi);
        HostTensor constantW = ctx.constant(n.inputs().get(1));
        if (constantW != null && o >= 8 && packable)
            p.put("A_PACK", 1).put("AP_SLOT", ctx.weight(packRowBlocks(constantW.data(), o, k))).put("AP_OFF", 0);
        else if (y.dims()[0] == 1) packA(ctx, n, p, w.slot(), w.offset(), k, 1, o, k);
        else p.put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
        return p;
    }

    /** True when every placement's H×W plane is contiguous (row stride = width), whatever its channel stride. */
    static boolean flatPlanes(Placement... ps) {
        for (Placement q : ps) if (q != null && (q.strides()[3] != 1 || q.strides()[2] != q.dims()[3])) return false;
        return true;
    }

    /** Wᵀ in panels of NR columns: panel j holds W[j·NR + r][k] at [j][k][r], zero past N. */
    static float[] packPanels(HostTensor w) { return packPanels(w.data(), w.shape().dim(0), w.shape().dim(1)); }

    /** As above for a row-major [n][k] matrix (a conv's [O][C·KH·KW] weights). */
    static float[] packPanels(float[] d, int n, int k) {
        int tiles = (n + NR - 1) / NR;
        float[] p = new float[tiles * k * NR];
        for (int j = 0; j < tiles; j++)
            for (int q = 0; q < k; q++)
                for (int r = 0; r < NR && j * NR + r < n; r++)
                    p[(j * k + q) * NR + r] = d[(j * NR + r) * k + q];
        return p;
    }

    /** The full 8-row blocks of a constant [m][k] matrix as [block][k][8], once at compile time (what {@link #packA} does per call). */
    static float[] packRowBlocks(float[] a, int m, int k) {
        int blocks = m / 8;
        float[] p = new float[blocks * k * 8];
        for (int b = 0; b < blocks; b++)
            for (int q = 0; q < k; q++)
                for (int r = 0; r < 8; r++) p[(b * k + q) * 8 + r] = a[(b * 8 + r) * k + q];
        return p;
    }

    /** A batched product of runtime operands, its epilogue's extra operand (its third, result-shaped) read through its own strides. */
    static void matmul(LoweringContext ctx, Node n, Epilogue epi) {
        Placement a = ctx.of(n.inputs().get(0)).as4d(), b = ctx.of(n.inputs().get(1)).as4d(), c = ctx.of(n.name()).as4d();
        Placement e = epi.hasExtra() ? ctx.of(n.inputs().get(2)).as4d() : c;
        int m = c.dims()[2], nn = c.dims()[3], k = a.dims()[3];
        int[] as = batchStrides(a, c), bs = batchStrides(b, c);
        Params p = Params.of()
                .put("A_SLOT", a.slot()).put("A_OFF", a.offset()).put("A_RS", a.strides()[2]).put("A_CS", a.strides()[3]).put("A_BS0", as[0]).put("A_BS1", as[1])
                .put("B_SLOT", b.slot()).put("B_OFF", b.offset()).put("B_RS", b.strides()[2]).put("B_BS0", bs[0]).put("B_BS1", bs[1]).put("B_PANEL", 0)
                .put("C_SLOT", c.slot()).put("C_OFF", c.offset()).put("C_RS", c.strides()[2]).put("C_BS0", c.strides()[0]).put("C_BS1", c.strides()[1])
                .put("BD1", c.dims()[1]).put("M", m).put("N", nn).put("K", k)
                .put("BIAS_MODE", 0).put("BIAS_SLOT", 0).put("BIAS_OFF", 0)
                .put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_RS", e.strides()[2]).put("E_BS0", e.strides()[0]).put("E_BS1", e.strides()[1])
                .epilogue(epi);
        if (epi.hasExtra() && e.strides()[3] != 1) throw new UnsupportedOpException(n.describe() + ": the extra operand must have unit stride along its last axis");
        if (b.strides()[3] != 1) throw new UnsupportedOpException(n.describe() + ": right operand must have unit stride along its last axis");
        int batches = c.dims()[0] * c.dims()[1];
        if (batches == 1) {
            packA(ctx, n, p, a.slot(), a.offset(), a.strides()[2], a.strides()[3], m, k);
            packB(ctx, n, p, b.slot(), b.offset(), b.strides()[2], k, nn);
        } else p.put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
        emit(ctx, n, p, batches, m, nn, k);
    }

    /**
     * For a single product, a per-call step packs B into the panels a constant weight gets at
     * compile time ([N/NR][K][NR]): a tile then streams one contiguous panel instead of K rows
     * B_RS floats apart, which at a power-of-two row stride (4 KiB at N = 1024) map to a handful
     * of cache sets and evict each other. Costs K·N floats of copy against the product's M·K·N
     * multiply-adds. Small products (K &lt; 16, fewer than two panels) keep reading B in place.
     * Columns past N in the last panel are never written: the kernel loads them but masks them
     * out of every store.
     */
    private static void packB(LoweringContext ctx, Node n, Params p, int slot, int off, int rowStride, int k, int cols) {
        if (k < 16 || cols < 2 * NR) return;
        int full = cols / NR, rest = cols % NR, tiles = full + (rest > 0 ? 1 : 0);
        int dst = ctx.scratch(tiles * k * NR);
        if (full > 0)
            MovementLowering.copy(ctx, n, " (pack B)", new int[]{1, full, k, NR}, slot, off, new int[]{0, NR, rowStride, 1},
                    LoweringContext.ARENA, dst, new int[]{0, k * NR, NR, 1});
        if (rest > 0)
            MovementLowering.copy(ctx, n, " (pack B)", new int[]{1, 1, k, rest}, slot, off + full * NR, new int[]{0, 0, rowStride, 1},
                    LoweringContext.ARENA, dst + full * k * NR, new int[]{0, 0, NR, 1});
        p.put("B_SLOT", LoweringContext.ARENA).put("B_OFF", dst).put("B_RS", NR).put("B_BS0", 0).put("B_BS1", 0).put("B_PANEL", 1);
    }

    private static int[] batchStrides(Placement operand, Placement out) {
        int[] s = new int[2];
        for (int i = 0; i < 2; i++) s[i] = operand.dims()[i] == 1 && out.dims()[i] != 1 ? 0 : operand.strides()[i];
        return s;
    }

    /**
     * For a single product with full 8-row blocks, a per-call step packs A into [block][k][8]
     * so the micro-kernel's 8 broadcasts read adjacent floats (one range check, one cache line).
     */
    private static void packA(LoweringContext ctx, Node n, Params p, int slot, int off, int rowStride, int colStride, int m, int k) {
        int blocks = m / 8;
        if (blocks == 0 || k < 16) {
            p.put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
            return;
        }
        int dst = ctx.scratch(blocks * k * 8);
        MovementLowering.copy(ctx, n, " (pack A)", new int[]{1, blocks, k, 8}, slot, off, new int[]{0, 8 * rowStride, colStride, rowStride},
                LoweringContext.ARENA, dst, new int[]{0, k * 8, 8, 1});
        p.put("A_PACK", 1).put("AP_SLOT", LoweringContext.ARENA).put("AP_OFF", dst);
    }

    /** Bytes of B one column chunk may span: it is swept by every row block, so it should stay in a core's L2. */
    private static final int B_CHUNK_BYTES = 512 * 1024;

    /**
     * Splits the columns into chunks whose panels of B fit in L2 (row blocks sweep a chunk while
     * it is cached) and into enough chunks that a small-M product still keeps every thread busy.
     */
    private static void emit(LoweringContext ctx, Node n, Params p, int batches, int m, int cols, int k) { emit(ctx, n, "", p, batches, m, cols, k); }

    /** As above; a non-empty label names a step that is one part of its node's work (not its result's only writer). */
    static void emit(LoweringContext ctx, Node n, String label, Params p, int batches, int m, int cols, int k) {
        noConvInput(p);
        int mb = (m + 7) / 8, tiles = (cols + NR - 1) / NR;
        int tilesPerChunk = Math.max(1, B_CHUNK_BYTES / (k * NR * 4));
        int nch = Math.max((tiles + tilesPerChunk - 1) / tilesPerChunk, Math.min(tiles, 8 / Math.max(1, batches * mb)));
        p.put("MB", mb).put("NCH", nch);
        if (label.isEmpty()) ctx.kernel(n, GemmKernel.class, p, batches * mb * nch);
        else ctx.addKernel(n.describe() + label, GemmKernel.class, p, batches * mb * nch);
    }

    /** GemmKernel's conv-input parameters (B_PANEL=2, {@link #im2colConv}) for a GEMM whose B is an operand in memory. */
    static Params noConvInput(Params p) {
        for (String q : new String[]{"X_SLOT", "X_OFF", "X_S0", "X_S1", "X_S2", "CIN", "KH", "KW", "SH", "SW", "DH", "DW", "PT", "PL"}) p.put(q, 0);
        if (!p.has("C_W")) p.put("C_W", 0).put("C_S2", 0);   // C without a halo
        return p.put("OW", 1).put("MCH", 1);
    }

    static Placement contiguous(LoweringContext ctx, Node n, Placement p) {
        if (p.isContiguous()) return p;
        int floats = (int) p.elements();
        Placement q = Placement.contiguous(LoweringContext.ARENA, ctx.scratch(floats), TensorType.f32(p.dims()));
        Placement p4 = p.as4d(), q4 = q.as4d();
        MovementLowering.copy(ctx, n, " (compact operand)", p4.dims(), p4.slot(), p4.offset(), p4.strides(), q4.slot(), q4.offset(), q4.strides());
        return q;
    }
}
