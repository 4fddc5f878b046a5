package dev.kiln.backend.cpu;

import java.util.Arrays;

/**
 * An index space walked by one kernel: the extents of its axes and, per view it reads or writes,
 * the element stride of each axis (0 along a broadcast axis). Kernels take a fixed number of axes
 * (copies 6, element-wise ops 4), so a higher-rank space is folded first: an axis of extent 1
 * (other than the last) is dropped, and two adjacent axes merge when every view steps over the
 * inner one exactly as the outer one (stride[i] == stride[i+1] * dims[i+1]), e.g. the H and W of
 * a channel shuffle's contiguous [N,2,C/2,H,W]. The last axis is never dropped, so its unit
 * stride (the vector/arraycopy path) survives.
 */
record IndexSpace(int[] dims, int[][] strides) {

    int rank() { return dims.length; }

    /** Folds leading axes away until at most maxRank remain, or no more can be; callers check {@link #rank}. */
    IndexSpace fold(int maxRank) {
        int[] d = dims.clone();
        int[][] s = new int[strides.length][];
        for (int v = 0; v < s.length; v++) s[v] = strides[v].clone();
        while (d.length > maxRank) {
            int drop = -1;
            for (int i = 0; i < d.length - 1 && drop < 0; i++) if (d[i] == 1) drop = i;
            if (drop >= 0) {
                d = remove(d, drop);
                for (int v = 0; v < s.length; v++) s[v] = remove(s[v], drop);
                continue;
            }
            int merge = -1;
            for (int i = 0; i < d.length - 1 && merge < 0; i++) if (mergeable(d, s, i)) merge = i;
            if (merge < 0) break;
            // axis merge+1 absorbs axis merge: its extent grows, its stride (the inner one) stays
            d[merge + 1] *= d[merge];
            d = remove(d, merge);
            for (int v = 0; v < s.length; v++) s[v] = remove(s[v], merge);
        }
        return new IndexSpace(d, s);
    }

    private static boolean mergeable(int[] d, int[][] s, int i) {
        for (int[] st : s) if (st[i] != st[i + 1] * d[i + 1]) return false;
        return true;
    }

    /** Leading axes of extent 1 (stride 0) until the space has exactly rank axes; rank ≥ {@link #rank}. */
    IndexSpace padTo(int rank) {
        int k = rank - dims.length;
        if (k < 0) throw new IllegalStateException("index space " + this + " has more than " + rank + " axes");
        int[] d = new int[rank];
        Arrays.fill(d, 1);
        System.arraycopy(dims, 0, d, k, dims.length);
        int[][] s = new int[strides.length][rank];
        for (int v = 0; v < s.length; v++) System.arraycopy(strides[v], 0, s[v], k, dims.length);
        return new IndexSpace(d, s);
    }

    /** Strides of a view with dims in, read as the shape out (NumPy broadcasting: aligned right, stride 0 where in has extent 1). */
    static int[] broadcastStrides(int[] inDims, int[] inStrides, int[] out) {
        int[] s = new int[out.length];
        int shift = out.length - inDims.length;
        for (int i = 0; i < inDims.length; i++) s[i + shift] = inDims[i] == 1 && out[i + shift] != 1 ? 0 : inStrides[i];
        return s;
    }

    private static int[] remove(int[] a, int i) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    @Override public String toString() {
        StringBuilder b = new StringBuilder(Arrays.toString(dims));
        for (int[] s : strides) b.append(" strides ").append(Arrays.toString(s));
        return b.toString();
    }
}
