package dev.kiln.frontend.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The ONNX shape rules that both constant folding and IR lowering need: Reshape's 0 and −1,
 * Flatten, Squeeze/Unsqueeze axes, Slice's clamping, Gather's result, NumPy broadcasting.
 * Each failure names the node through the given view.
 */
final class ShapeRules {
    private ShapeRules() {}

    /** Reshape target with 0 (copy the input dim, unless allowzero) and −1 (infer) resolved. */
    static int[] reshape(NodeView n, int[] in, long[] target, boolean allowZero) {
        int[] out = new int[target.length];
        int infer = -1;
        long known = 1, total = 1;
        for (int d : in) total *= d;
        for (int i = 0; i < target.length; i++) {
            long t = target[i];
            if (t == -1) {
                if (infer >= 0) throw n.malformed("shape " + Arrays.toString(target) + " has more than one -1");
                infer = i;
                continue;
            }
            if (t == 0 && !allowZero) {
                if (i >= in.length) throw n.malformed("shape " + Arrays.toString(target) + " copies dim " + i + " of a rank-" + in.length + " input");
                t = in[i];
            }
            if (t < 0 || t > Integer.MAX_VALUE) throw n.malformed("invalid dimension " + t + " in shape " + Arrays.toString(target));
            out[i] = (int) t;
            known *= t;
        }
        if (infer >= 0) {
            if (known == 0 || total % known != 0)
                throw n.malformed("cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(target));
            out[infer] = (int) (total / known);
        } else if (known != total) {
            throw n.malformed("cannot reshape " + Arrays.toString(in) + " (" + total + " elements) to " + Arrays.toString(target));
        }
        return out;
    }

    /** Flatten: [d0..d(axis-1)] and [d(axis)..] each multiplied out. */
    static int[] flatten(NodeView n, int[] in, long axis) {
        int a = axis < 0 ? (int) axis + in.length : (int) axis;
        if (a < 0 || a > in.length) throw n.malformed("axis " + axis + " is out of range for rank " + in.length);
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= in[i];
        for (int i = a; i < in.length; i++) inner *= in[i];
        return new int[]{outer, inner};
    }

    static int[] unsqueeze(NodeView n, int[] in, long[] axes) {
        int rank = in.length + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
            int ax = n.axis(a, rank, "axis");
            if (inserted[ax]) throw n.malformed("axis " + a + " is given twice");
            inserted[ax] = true;
        }
        int[] out = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) out[i] = inserted[i] ? 1 : in[j++];
        return out;
    }

    /** Squeeze the given axes (each must be 1), or every axis of size 1 when axes is null. */
    static int[] squeeze(NodeView n, int[] in, long[] axes) {
        boolean[] drop = new boolean[in.length];
        if (axes == null) for (int i = 0; i < in.length; i++) drop[i] = in[i] == 1;
        else for (long a : axes) {
            int ax = n.axis(a, in.length, "axis");
            if (in[ax] != 1) throw n.malformed("cannot squeeze axis " + a + " of size " + in[ax] + " in " + Arrays.toString(in));
            drop[ax] = true;
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < in.length; i++) if (!drop[i]) out.add(in[i]);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A Slice resolved per axis of the input: start, step and result length (0 when empty). */
    record SliceSpec(int[] starts, int[] steps, int[] lengths) {
        int[] outDims() { return lengths.clone(); }

        boolean isIdentity(int[] in) {
            for (int i = 0; i < in.length; i++) if (starts[i] != 0 || steps[i] != 1 || lengths[i] != in[i]) return false;
            return true;
        }
    }

    /** ONNX Slice semantics: negative indices count from the end, then clamping by step direction. */
    static SliceSpec slice(NodeView n, int[] in, long[] starts, long[] ends, long[] axes, long[] steps) {
        int r = in.length;
        int[] st = new int[r], sp = new int[r], len = in.clone();
        Arrays.fill(sp, 1);
        if (starts.length != ends.length) throw n.malformed("starts " + Arrays.toString(starts) + " and ends " + Arrays.toString(ends) + " differ in length");
        boolean[] seen = new boolean[r];
        for (int i = 0; i < starts.length; i++) {
            int ax = n.axis(axes == null ? i : axes[i], r, "axis");
            if (seen[ax]) throw n.malformed("axis " + ax + " is sliced twice");
            seen[ax] = true;
            long step = steps == null ? 1 : steps[i];
            if (step == 0) throw n.malformed("step 0 on axis " + ax);
            long dim = in[ax], s = starts[i], e = ends[i];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            if (step > 0) {
                s = Math.clamp(s, 0, dim);
                e = Math.clamp(e, 0, dim);
            } else {
                s = Math.clamp(s, 0, dim - 1);
                e = Math.clamp(e, -1, dim - 1);
            }
            long count = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step);
            st[ax] = (int) s;
            sp[ax] = (int) step;
            len[ax] = (int) Math.max(0, count);
        }
        return new SliceSpec(st, sp, len);
    }

    /** Gather's result: data dims before axis, the indices' dims, data dims after axis. */
    static int[] gather(int[] data, int axis, int[] indices) {
        int[] out = new int[data.length - 1 + indices.length];
        int k = 0;
        for (int i = 0; i < axis; i++) out[k++] = data[i];
        for (int d : indices) out[k++] = d;
        for (int i = axis + 1; i < data.length; i++) out[k++] = data[i];
        return out;
    }

    /** NumPy broadcasting of several shapes. */
    static int[] broadcast(NodeView n, List<int[]> shapes) {
        int r = 0;
        for (int[] s : shapes) r = Math.max(r, s.length);
        int[] out = new int[r];
        Arrays.fill(out, 1);
        for (int[] s : shapes)
            for (int i = 0; i < s.length; i++) {
                int o = r - s.length + i;
                if (s[i] == out[o] || s[i] == 1) continue;
                if (out[o] != 1) throw n.malformed("shapes " + shapes.stream().map(Arrays::toString).toList() + " do not broadcast");
                out[o] = s[i];
            }
        return out;
    }

    static int product(int[] dims) {
        long p = 1;
        for (int d : dims) p *= d;
        return Math.toIntExact(p);
    }

    /** Flat offset into a tensor of dims (right-aligned against idx, size-1 axes broadcast). */
    static int broadcastOffset(int[] idx, int[] dims) {
        int off = 0, shift = idx.length - dims.length;
        for (int i = 0; i < dims.length; i++) off = off * dims[i] + (dims[i] == 1 ? 0 : idx[i + shift]);
        return off;
    }

    static void unravel(int p, int[] dims, int[] idx) {
        for (int i = dims.length - 1; i >= 0; i--) { idx[i] = dims[i] == 0 ? 0 : p % dims[i]; p = dims[i] == 0 ? 0 : p / dims[i]; }
    }
}
