package dev.kiln.ir.op;

/** NumPy broadcasting: dimensions are aligned from the right; 1 stretches to match. */
final class Broadcast {
    private Broadcast() {}

    static int[] shape(Op op, int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            Checks.require(da == db || da == 1 || db == 1, op,
                    "shapes " + java.util.Arrays.toString(a) + " and " + java.util.Arrays.toString(b) + " do not broadcast (axis " + i + ": " + da + " vs " + db + ")");
            out[i] = Math.max(da, db);
        }
        return out;
    }

    /** Row-major multi-index of flat position p in shape dims. */
    static void unravel(int p, int[] dims, int[] idx) {
        for (int i = dims.length - 1; i >= 0; i--) { idx[i] = p % dims[i]; p /= dims[i]; }
    }

    /** Flat offset in a (right-aligned, broadcast) operand of shape dims for output index idx. */
    static int offset(int[] idx, int[] dims) {
        int off = 0, shift = idx.length - dims.length;
        for (int i = 0; i < dims.length; i++) off = off * dims[i] + (dims[i] == 1 ? 0 : idx[i + shift]);
        return off;
    }
}
