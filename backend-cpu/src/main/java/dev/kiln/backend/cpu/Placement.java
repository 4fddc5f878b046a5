package dev.kiln.backend.cpu;

import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;

/**
 * Where a value lives at run time: a slot of the bufs array, the element offset of its first
 * element, and the element stride of each axis. A rank-4 value planned with a halo has wider
 * row and plane strides and zero rows/columns around its [H,W] interior (halo = top, left,
 * bottom, right); everything else is contiguous with a zero halo.
 */
public record Placement(int slot, int offset, int[] dims, int[] strides, int[] halo) {
    public static Placement contiguous(int slot, int offset, TensorType t) {
        return new Placement(slot, offset, t.shape().dims(), t.shape().strides(), new int[4]);
    }

    public static Placement haloed(int slot, int base, TensorType t, int[] halo) {
        int n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
        int pw = w + halo[1] + halo[3], ph = h + halo[0] + halo[2];
        return new Placement(slot, base + halo[0] * pw + halo[1], new int[]{n, c, h, w},
                new int[]{c * ph * pw, ph * pw, pw, 1}, halo.clone());
    }

    public int rank() { return dims.length; }

    public boolean hasHalo() { return halo[0] + halo[1] + halo[2] + halo[3] > 0; }

    /** True when the halo covers a convolution padding of [top, left, bottom, right]. */
    public boolean covers(int[] padding) {
        for (int i = 0; i < 4; i++) if (halo[i] < padding[i]) return false;
        return true;
    }

    public boolean isContiguous() {
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] != 1 && strides[i] != acc) return false;
            acc *= dims[i];
        }
        return true;
    }

    public long elements() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** The same buffer viewed as 4-d [d0,d1,d2,d3] with leading axes of extent 1 (rank ≤ 4). */
    public Placement as4d() {
        if (dims.length == 4) return this;
        if (dims.length > 4) throw new UnsupportedOpException("the cpu backend handles tensors up to rank 4, got rank " + dims.length
                + " " + java.util.Arrays.toString(dims));
        int[] d = {1, 1, 1, 1}, s = new int[4];
        int k = 4 - dims.length;
        for (int i = 0; i < dims.length; i++) { d[k + i] = dims[i]; s[k + i] = strides[i]; }
        for (int i = k - 1; i >= 0; i--) s[i] = i == 3 ? 1 : s[i + 1] * d[i + 1];  // i == 3: a rank-0 scalar
        return new Placement(slot, offset, d, s, halo);
    }
}
