package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Transpose;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * DepthToSpace (nn.PixelShuffle exports it in CRD mode) and SpaceToDepth, as Kiln has no op of
 * their own: each is a rank-6 reshape, a transpose that interleaves the block axes with H and W,
 * and a reshape back to rank 4 — exactly the decomposition the ONNX spec defines them by.
 */
final class SpaceDepthOps {
    private SpaceDepthOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("DepthToSpace", SpaceDepthOps::depthToSpace);
        r.put("SpaceToDepth", SpaceDepthOps::spaceToDepth);
    }

    private static int blocksize(NodeView n, int[] d) {
        if (d.length != 4) throw n.unsupported("its input has rank " + d.length + " " + Arrays.toString(d) + "; " + n.opType()
                + " takes an NCHW tensor of rank 4");
        if (!n.hasAttr("blocksize")) throw n.malformed("attribute 'blocksize' is required");
        long bs = n.attrInt("blocksize", 0);
        if (bs < 1 || bs > 1 << 15) throw n.malformed("blocksize " + bs + " must be a positive size");
        return (int) bs;
    }

    /** DCR: channels are [block row, block column, C]; CRD: [C, block row, block column]. */
    private static void depthToSpace(NodeView n) {
        int[] d = n.dims(0);
        int bs = blocksize(n, d), b = d[0], c = d[1], h = d[2], w = d[3];
        String mode = n.attrString("mode", "DCR");
        if (c % (bs * bs) != 0)
            throw n.malformed("channels " + c + " of " + Arrays.toString(d) + " are not a multiple of blocksize² = " + bs * bs);
        int oc = c / (bs * bs);
        int[] split, perm;
        switch (mode) {
            case "DCR" -> { split = new int[]{b, bs, bs, oc, h, w}; perm = new int[]{0, 3, 4, 1, 5, 2}; }
            case "CRD" -> { split = new int[]{b, oc, bs, bs, h, w}; perm = new int[]{0, 1, 4, 2, 5, 3}; }
            default -> throw n.unsupported("mode '" + mode + "' is not one of DCR and CRD");
        }
        decompose(n, split, perm, new int[]{b, oc, h * bs, w * bs});
    }

    /** The inverse of DepthToSpace in DCR mode: output channel (i·bs + j)·C + c holds x[c, y·bs + i, x·bs + j]. */
    private static void spaceToDepth(NodeView n) {
        int[] d = n.dims(0);
        int bs = blocksize(n, d), b = d[0], c = d[1], h = d[2], w = d[3];
        if (h % bs != 0 || w % bs != 0)
            throw n.malformed("height and width of " + Arrays.toString(d) + " are not multiples of blocksize " + bs);
        decompose(n, new int[]{b, c, h / bs, bs, w / bs, bs}, new int[]{0, 3, 5, 1, 2, 4}, new int[]{b, c * bs * bs, h / bs, w / bs});
    }

    private static void decompose(NodeView n, int[] split, int[] perm, int[] out) {
        String s = n.emit("blocks", new Reshape(split), List.of(n.ir(0)));
        String t = n.emit("moved", new Transpose(perm), List.of(s));
        n.emitOut(new Reshape(out), List.of(t));
    }
}
