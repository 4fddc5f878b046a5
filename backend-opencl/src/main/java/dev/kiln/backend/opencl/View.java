package dev.kiln.backend.opencl;

import java.util.Arrays;

/**
 * A tensor as a kernel reads or writes it: a pointer argument, an element offset and a stride
 * per logical axis (0 on broadcast axes). Transposes, slices, broadcasts, channel-major layouts
 * and the memory plan's zero halos are all just views, so no kernel needs to know about them:
 * it asks for element (i0, i1, ...) and gets an index expression with every constant folded in.
 *
 * @param halo [top, left, bottom, right] zero rows/columns stored around a rank-4 tensor's
 *             [H,W] interior (all zero otherwise); reads up to that far outside are zeros
 */
record View(String ptr, long offset, int[] dims, long[] strides, int[] halo) {
    static final int[] NO_HALO = new int[4];

    /** Dense row-major storage at this element offset. */
    static View contiguous(String ptr, long offset, int[] dims) {
        return new View(ptr, offset, dims.clone(), rowMajor(dims), NO_HALO);
    }

    /**
     * Storage as the memory plan lays it out: for a rank-4 tensor with a halo, rows and planes
     * are padded and the offset points at element (0,0,0,0) of the interior.
     */
    static View stored(String ptr, long slotOffset, int[] dims, int[] halo) {
        if (halo == null || dims.length != 4 || Arrays.equals(halo, NO_HALO)) return contiguous(ptr, slotOffset, dims);
        int hp = dims[2] + halo[0] + halo[2], wp = dims[3] + halo[1] + halo[3];
        long[] s = {(long) dims[1] * hp * wp, (long) hp * wp, wp, 1};
        return new View(ptr, slotOffset + (long) halo[0] * wp + halo[1], dims.clone(), s, halo.clone());
    }

    static long[] rowMajor(int[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    int rank() { return dims.length; }
    int dim(int axis) { return dims[axis]; }
    long size() { long n = 1; for (int d : dims) n *= d; return n; }

    /** Whether reads up to pad[i] outside the interior land in stored zeros (so no bounds check is needed). */
    boolean haloCovers(int[] pad) {
        for (int i = 0; i < 4; i++) if (halo[i] < pad[i]) return false;
        return true;
    }

    /** Dense row-major with no halo: flat element p is at offset + p. */
    boolean isContiguous() { return Arrays.equals(strides, rowMajor(dims)); }

    /** "ptr[index]" for the element at these per-axis index expressions. */
    String at(String... idx) { return ptr + "[" + index(idx) + "]"; }

    /** The element offset of (idx...): constant terms folded, unit dimensions and zero strides dropped. */
    String index(String... idx) {
        if (idx.length != dims.length)
            throw new IllegalArgumentException("index of rank " + idx.length + " into a view of rank " + dims.length);
        StringBuilder b = new StringBuilder();
        if (offset != 0) b.append(offset);
        for (int i = 0; i < idx.length; i++) {
            if (strides[i] == 0 || idx[i].equals("0")) continue;
            if (!b.isEmpty()) b.append(" + ");
            b.append(strides[i] == 1 ? paren(idx[i]) : paren(idx[i]) + "*" + strides[i]);
        }
        return b.isEmpty() ? "0" : b.toString();
    }

    private static String paren(String e) {
        return e.matches("[A-Za-z_][A-Za-z_0-9]*|-?\\d+|\\(.*\\)") && balanced(e) ? e : "(" + e + ")";
    }

    private static boolean balanced(String e) {
        if (!e.startsWith("(")) return true;
        int depth = 0;
        for (int i = 0; i < e.length(); i++) {
            if (e.charAt(i) == '(') depth++;
            else if (e.charAt(i) == ')' && --depth == 0 && i < e.length() - 1) return false;
        }
        return true;
    }

    /** The same tensor under another pointer name (e.g. a helper function's parameter). */
    View withPtr(String p) { return new View(p, offset, dims, strides, halo); }

    /** Result axis i is this view's axis perm[i]. */
    View permute(int[] perm) {
        int[] d = new int[perm.length];
        long[] s = new long[perm.length];
        for (int i = 0; i < perm.length; i++) { d[i] = dims[perm[i]]; s[i] = strides[perm[i]]; }
        return new View(ptr, offset, d, s, NO_HALO);
    }

    /** Elements start, start+step, ... (count of them) along axis. */
    View slice(int axis, int start, int step, int count) {
        int[] d = dims.clone();
        long[] s = strides.clone();
        d[axis] = count;
        s[axis] = strides[axis] * step;
        return new View(ptr, offset + (long) start * strides[axis], d, s, NO_HALO);
    }

    /** NumPy broadcasting to out (dims aligned from the right; size-1 axes get stride 0). */
    View broadcastTo(int[] out) {
        long[] s = new long[out.length];
        int shift = out.length - dims.length;
        for (int i = 0; i < dims.length; i++) s[i + shift] = dims[i] == 1 && out[i + shift] != 1 ? 0 : strides[i];
        return new View(ptr, offset, out.clone(), s, NO_HALO);
    }

    /** The same elements under new dimensions; only for contiguous views. */
    View reshape(int[] to) {
        if (!isContiguous()) throw new IllegalStateException("reshape of a strided view");
        return contiguous(ptr, offset, to);
    }

    /** Swaps the last two axes: a channel-major [B,C,N] tensor read as [B,N,C]. */
    View swapLastTwo() {
        int[] perm = new int[dims.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[perm.length - 1] = perm.length - 2;
        perm[perm.length - 2] = perm.length - 1;
        return permute(perm);
    }
}
