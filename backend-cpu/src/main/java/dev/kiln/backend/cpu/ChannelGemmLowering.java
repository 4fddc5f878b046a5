package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.ChannelGemmKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Epilogue;

/**
 * A dense conv with a small output plane and many output channels, as a GEMM vectorised along
 * the channels ({@link ChannelGemmKernel}) that reads its input in place.
 * Inside ResNet-18 at batch 1 the pixel-vectorised GEMM left 23 % of its lanes idle at 7²
 * (49 pixels in 64 lanes) and 12.5 % at 14² (196 in 224), on the convs that hold most of the
 * model's weights; here the pixels are the tile's rows (7 or 8 per tile) and 256 or 512
 * channels fill every vector.
 */
final class ChannelGemmLowering {
    /**
     * K block: the KC×NR sub-panel of weights (32 KiB at 512-bit vectors) stays in L1 while every
     * pixel row block sweeps it. Inside ResNet-18, 256 ran layer3's and layer4's convs 5-7 % faster than 128
     * (and 64 slower still); larger blocks measured no better within the machine's noise.
     */
    static final int KC = 256;
    /** Most accumulator rows a task keeps (its scratch is twice rows × NR floats: 128 KiB at 512-bit vectors). */
    private static final int MAX_ROWS = 512;

    private ChannelGemmLowering() {}

    /**
     * True when the channels fill the vector tiles better than the pixels do, by more than 2 % of
     * the lanes, and there are enough channel tiles for both threads (at least 4 per image).
     */
    static boolean pays(int channels, int pixels) {
        int nr = GemmLowering.NR, tiles = (channels + nr - 1) / nr;
        if (tiles < 4 || rows(pixels, rowsPerTile(pixels)) > MAX_ROWS) return false;
        double byPixels = (double) pixels / (((pixels + nr - 1) / nr) * nr);
        double byChannels = (double) channels / (tiles * nr) * pixels / rows(pixels, rowsPerTile(pixels));
        return byChannels > byPixels + 0.02;
    }

    /** 7 or 8 pixel rows per register tile, whichever leaves fewer rows idle (49 = 7·7, 196 = 7·28); 8 on a tie (one more row per B load). */
    static int rowsPerTile(int pixels) { return rows(pixels, 7) < rows(pixels, 8) ? 7 : 8; }

    private static int rows(int pixels, int mr) { return (pixels + mr - 1) / mr * mr; }

    /** The GEMM reading the conv input in place (p holds GemmLowering's X_ and geometry parameters) into y through bias and epilogue. */
    static void conv(LoweringContext ctx, Node n, Params p, HostTensor w, Placement b, Placement e, Placement y, Epilogue epi) {
        int o = w.shape().dim(0), k = (int) (w.shape().size() / o), images = y.dims()[0], pixels = y.dims()[2] * y.dims()[3];
        Placement ev = e == null ? y : e;
        p.put("B_SLOT", ctx.weight(GemmLowering.packPanels(w.data(), o, k)))
                .put("C_SLOT", y.slot()).put("C_OFF", y.offset()).put("C_RS", y.strides()[1]).put("C_BS0", y.strides()[0])
                .put("C_W", GemmLowering.flatPlanes(y) ? 0 : y.dims()[3]).put("C_S2", y.strides()[2])
                .put("E_SLOT", ev.slot()).put("E_OFF", ev.offset()).put("E_RS", ev.strides()[1]).put("E_BS0", ev.strides()[0])
                .put("BIAS_SLOT", b.slot()).put("BIAS_OFF", b.offset())
                .put("O", o).put("N", pixels).put("K", k).put("MR", rowsPerTile(pixels)).put("KC", KC).put("IMAGES", images)
                .epilogue(epi);
        PooledConvLowering.noPool(p, y.dims()[2], pixels, rowsPerTile(pixels));
        ctx.kernel(n, ChannelGemmKernel.class, p, (o + GemmLowering.NR - 1) / GemmLowering.NR * images);
    }
}
