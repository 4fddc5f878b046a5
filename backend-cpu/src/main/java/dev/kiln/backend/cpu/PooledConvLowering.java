package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.ChannelGemmKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Pool;

/**
 * A conv2d whose epilogue ends with a pool ({@link Pool}). A dense conv with constant weights and
 * channels that fill the vectors runs as {@link ChannelGemmKernel} in bands of pooled rows: each
 * task computes its band's conv rows from the input in place (no im2col copies), pools them in
 * its scratch and writes only the pooled result. Any other conv is composed: the conv (every
 * path {@link ConvLowering#emitConv} has) into this node's scratch, then the pool kernel.
 */
final class PooledConvLowering {
    private PooledConvLowering() {}

    /** Most conv pixels a band computes: its T and U tiles are then 2 × 1024 × NR floats (256 KiB at 512-bit vectors). */
    private static final int BAND_PIXELS = 1024;

    static void conv(LoweringContext ctx, Node n, Conv2d c, Placement x, Placement w, Placement b) {
        Pool pool = c.epilogue().pool();
        Epilogue each = c.epilogue().withoutPool();
        Placement y = ctx.of(n.name());
        int[] cd = {y.dims()[0], w.dims()[0], convSize(x.dims()[2], c, w.dims()[2], 0), convSize(x.dims()[3], c, w.dims()[3], 1)};
        HostTensor constantW = ctx.constant(n.inputs().get(1));
        if (c.groups() == 1 && constantW != null && fillsVectors(cd[1]) && bands(pool, cd, y.dims(), 1) != null) {
            fused(ctx, n, c, x, w, b, y, constantW, pool, each, cd);
            return;
        }
        Placement unpooled = Placement.contiguous(LoweringContext.ARENA, ctx.scratch(cd[0] * cd[1] * cd[2] * cd[3]), TensorType.f32(cd));
        ConvLowering.emitConv(ctx, n, x, w, b, null, unpooled, c.withEpilogue(each), each);
        ReductionLowering.pool(ctx, n, " (pool)", unpooled, y, pool.kernel().toArray(), pool.stride().toArray(), pool.padding().toArray(), pool.max(), pool.countIncludePad());
    }

    private static int convSize(int in, Conv2d c, int k, int axis) {
        return (in + c.padding().get(axis) + c.padding().get(axis + 2) - c.dilation().get(axis) * (k - 1) - 1) / c.stride().get(axis) + 1;
    }

    /** At least three quarters of the channel tiles' lanes hold a channel (ChannelGemmKernel vectorises along them). */
    private static boolean fillsVectors(int channels) {
        int nr = GemmLowering.NR;
        return channels * 4 >= (channels + nr - 1) / nr * nr * 3;
    }

    /** Pooled rows per band, and bands per plane. */
    record Bands(int rows, int count, int mr, int tileRows) {}

    /**
     * Bands of pooled rows: enough of them for 8 tasks over the channel tiles and images (the two
     * threads' grains), fewer rows while a band's conv rows exceed BAND_PIXELS; null when a single
     * pooled row already does (very wide rows: composed instead).
     */
    static Bands bands(Pool pool, int[] cd, int[] pd, int minRows) {
        int kh = pool.kernel().get(0), sh = pool.stride().get(0), pt = pool.padding().get(0), ph = pd[2], ow = cd[3];
        int tiles = (cd[1] + GemmLowering.NR - 1) / GemmLowering.NR, perPlane = Math.max(1, (8 + tiles * cd[0] - 1) / (tiles * cd[0]));
        int rows = Math.max(minRows, (ph + perPlane - 1) / perPlane);
        while (rows > 1 && Math.min(cd[2], (rows - 1) * sh + kh) * ow > BAND_PIXELS) rows--;
        if (Math.min(cd[2], kh) * ow > BAND_PIXELS) return null;
        int count = (ph + rows - 1) / rows, most = 0;
        for (int band = 0; band < count; band++) {
            int py0 = band * rows, py1 = Math.min(ph, py0 + rows);
            int r0 = Math.max(0, py0 * sh - pt), r1 = Math.min(cd[2], (py1 - 1) * sh - pt + kh);
            most = Math.max(most, (r1 - r0) * ow);
        }
        int mr = ChannelGemmLowering.rowsPerTile(most);
        // T holds the band's conv pixels, U its pooled ones (more with wide pool padding)
        return new Bands(rows, count, mr, Math.max((most + mr - 1) / mr * mr, rows * pd[3]));
    }

    private static void fused(LoweringContext ctx, Node n, Conv2d c, Placement x, Placement w, Placement b, Placement y,
                              HostTensor constantW, Pool pool, Epilogue each, int[] cd) {
        Bands bands = bands(pool, cd, y.dims(), 1);
        int o = cd[1], k = (int) (constantW.shape().size() / o), images = cd[0];
        Placement shape = Placement.contiguous(0, 0, TensorType.f32(cd));   // the unpooled geometry GemmLowering.convInput reads
        Params p = GemmLowering.convInput(Params.of(), x, w, shape, c)
                .put("B_SLOT", ctx.weight(GemmLowering.packPanels(constantW.data(), o, k)))
                .put("C_SLOT", y.slot()).put("C_OFF", y.offset()).put("C_RS", y.strides()[1]).put("C_BS0", y.strides()[0])
                .put("C_W", y.dims()[3]).put("C_S2", y.strides()[2])
                .put("E_SLOT", y.slot()).put("E_OFF", 0).put("E_RS", 0).put("E_BS0", 0)
                .put("BIAS_SLOT", b.slot()).put("BIAS_OFF", b.offset())
                .put("O", o).put("N", cd[2] * cd[3]).put("K", k).put("MR", bands.mr()).put("KC", ChannelGemmLowering.KC).put("IMAGES", images)
                .put("POOL", pool.max() ? 1 : 2).put("QKH", pool.kernel().get(0)).put("QKW", pool.kernel().get(1))
                .put("QSH", pool.stride().get(0)).put("QSW", pool.stride().get(1))
                .put("QPT", pool.padding().get(0)).put("QPL", pool.padding().get(1)).put("QPB", pool.padding().get(2)).put("QPR", pool.padding().get(3))
                .put("QCOUNT", pool.countIncludePad() ? 1 : 0).put("CH", cd[2]).put("PH", y.dims()[2]).put("PW", y.dims()[3])
                .put("BROWS", bands.rows()).put("BANDS", bands.count()).put("TROWS", bands.tileRows())
                .epilogue(each);
        ctx.kernel(n, ChannelGemmKernel.class, p, (o + GemmLowering.NR - 1) / GemmLowering.NR * images * bands.count());
    }

    /** ChannelGemmKernel's pool parameters for a conv without a pool: one band of every row. */
    static Params noPool(Params p, int oh, int pixels, int mr) {
        return p.put("POOL", 0).put("QKH", 1).put("QKW", 1).put("QSH", 1).put("QSW", 1).put("QPT", 0).put("QPL", 0).put("QPB", 0).put("QPR", 0)
                .put("QCOUNT", 0).put("CH", oh).put("PH", 1).put("PW", 1).put("BROWS", 1).put("BANDS", 1).put("TROWS", (pixels + mr - 1) / mr * mr);
    }
}
