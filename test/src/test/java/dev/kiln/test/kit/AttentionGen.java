package dev.kiln.test.kit;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GraphGen's fused_attention: rank 3 [G,M,D] or rank 4 [B,H,M,D] queries, every operand and the
 * result in any {@link AttentionLayout} (heads read through strides), causal or not, and a mask of
 * the full [.., M, N] or broadcast along any leading axis ([M,N], [B,1,N], [B,1,1,N]), additive or
 * selecting, with key-padding rows of −∞ (some masked to their end) half the time.
 */
final class AttentionGen {
    private AttentionGen() {}

    static boolean attention(GraphGen g) {
        Choices c = g.c;
        String q = g.operand(t -> t.rank() == 3 || t.rank() == 4 && t.dim(0) * t.dim(1) <= 8);
        if (q == null) return false;
        TensorType qt = g.type(q);
        int rank = qt.rank();
        AttentionLayout[] all = AttentionLayout.values();
        AttentionLayout ql = c.pick(all), kl = c.pick(all), vl = c.pick(all), ol = c.pick(all);
        boolean mask = c.chance(40), causal = c.chance(30);
        boolean padded = mask && c.chance(50), selects = mask && c.chance(50);
        int[] lq = ql.logical(qt.shape().dims());
        int m = lq[rank - 2], d = lq[rank - 1], n = padded ? g.keys() : g.wide(), e = g.wide();
        String k = g.constant("k", DataGen.Role.WEIGHT, 1, kl.stored(logical(lq, n, d)));
        String v = g.like(TensorType.f32(vl.stored(logical(lq, n, e))));
        Epilogue epi = g.epilogue();
        List<String> in = new ArrayList<>(List.of(q, k, v));
        if (mask) in.add(mask(g, logical(lq, m, n), padded));
        if (epi.hasExtra()) in.add(g.like(TensorType.f32(ol.stored(logical(lq, m, e)))));
        return g.add(new FusedAttention((float) (1 / Math.sqrt(d)), mask, ql, kl, vl, ol, causal, selects, epi), in) != null;
    }

    /** The op's batch axes of lq followed by rows and cols. */
    private static int[] logical(int[] lq, int rows, int cols) {
        int[] r = lq.clone();
        r[r.length - 2] = rows;
        r[r.length - 1] = cols;
        return r;
    }

    /** A mask broadcast to full [.., M, N] along a random subset of its leading axes (sometimes fewer axes). */
    private static String mask(GraphGen g, int[] full, boolean padded) {
        Choices c = g.c;
        int[] dims = full.clone();
        for (int a = 0; a < dims.length - 1; a++) if (c.chance(30)) dims[a] = 1;
        if (c.chance(25)) dims = Arrays.copyOfRange(dims, c.below(dims.length - 1), dims.length);
        if (!padded) return g.like(TensorType.f32(dims));
        int rows = dims.length >= 2 ? dims[dims.length - 2] : 1, keys = dims[dims.length - 1];
        int batch = Shape.of(dims).elementCount() / (rows * keys);
        HostTensor data = HostTensor.of(Shape.of(dims), DataGen.paddingMask(c, batch, rows, keys).data());
        if (c.chance(50)) return g.b.constant(g.name("mask"), data);
        String v = g.b.input(g.name("mask"), TensorType.f32(dims));
        g.inputData.put(v, data);
        return v;
    }
}
