package dev.kiln.backend.opencl;

/**
 * The blocking of a GEMM-shaped kernel, chosen from the device's limits and the shape. Each
 * work-item computes rm rows × vw columns (rm accumulators of type float{vw}); a work-group of
 * tx × ty items covers a bm × bn tile of the result and walks K in steps of bk, staging an
 * A tile (bm × bk) and a B tile (bk × bn) in local memory.
 */
record GemmTiling(int rm, int vw, int tx, int ty, int bk) {
    int bm() { return rm * ty; }
    int bn() { return vw * tx; }
    int workGroupSize() { return tx * ty; }
    long localBytes() { return 4L * bk * (bm() + bn()); }

    /**
     * @param coverM prefer a tile that spans all of M, so each B tile is produced once (the fused
     *               depthwise+pointwise kernel computes its depthwise tile as B)
     */
    static GemmTiling choose(int batches, int m, int n, int k, boolean coverM, DeviceLimits l) {
        int vw = l.tileVectorWidth();
        while (vw > 1 && vw > n) vw /= 2;
        int rm = Math.max(1, Math.min(Math.min(8, 64 / vw), m));
        int tx = Math.min(Code.pow2AtLeast(Code.ceilDiv(n, vw)), Math.min(64, l.maxItems(0)));
        int ty = Math.min(Code.pow2AtLeast(Code.ceilDiv(m, rm)), Math.min(coverM ? 64 : 16, l.maxItems(1)));
        int target = l.targetWorkGroupSize();
        while (tx * ty > target) {
            if (tx > 1 && (coverM || tx >= ty)) tx /= 2;
            else ty /= 2;
        }
        // enough work-groups to keep every compute unit busy, when the shape allows it
        while (groups(batches, m, n, rm * ty, vw * tx) < l.computeUnits() && tx * ty > 1) {
            if (tx > 1 && (coverM || tx >= ty)) tx /= 2;
            else ty /= 2;
        }
        int bk = Math.min(32, Math.max(1, k));
        GemmTiling t = new GemmTiling(rm, vw, tx, ty, bk);
        while (t.localBytes() > l.localBudgetBytes()) {
            if (t.bk > 4) t = new GemmTiling(rm, vw, t.tx, t.ty, (t.bk + 1) / 2);
            else if (t.tx > 1 && t.tx >= t.ty) t = new GemmTiling(rm, vw, t.tx / 2, t.ty, t.bk);
            else if (t.ty > 1) t = new GemmTiling(rm, vw, t.tx, t.ty / 2, t.bk);
            else if (t.bk > 1) t = new GemmTiling(rm, vw, 1, 1, t.bk / 2);
            else break;
        }
        return t;
    }

    static long groups(int batches, int m, int n, int bm, int bn) {
        return (long) batches * Code.ceilDiv(m, bm) * Code.ceilDiv(n, bn);
    }

    @Override public String toString() {
        return "tile " + bm() + "x" + bn() + "x" + bk + ", work-group " + tx + "x" + ty + ", " + rm + " rows x float" + (vw == 1 ? "" : vw) + " per item";
    }
}
