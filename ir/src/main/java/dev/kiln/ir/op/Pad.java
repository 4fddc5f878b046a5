package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Grows every axis by pads: ONNX order, the begins of every axis, then the ends, all ≥ 0 (a crop
 * is a {@link Slice}). What fills the border depends on the mode:
 * <ul>
 *   <li>CONSTANT: value;</li>
 *   <li>REFLECT: the mirror image about the first/last element, which is not repeated
 *       (numpy/ONNX 'reflect', PyTorch's ReflectionPad): [a b c] padded by 2 is [c b a b c b a],
 *       so each pad must be below the axis' size;</li>
 *   <li>EDGE: the first/last element repeated (PyTorch's ReplicationPad).</li>
 * </ul>
 * Any rank; each result element is one operand element or the value.
 */
public record Pad(Mode mode, Ints pads, float value) implements Op {
    public enum Mode { CONSTANT, REFLECT, EDGE }

    public Pad {
        java.util.Objects.requireNonNull(mode, "mode");
        java.util.Objects.requireNonNull(pads, "pads");
        if (pads.size() % 2 != 0) throw new IllegalArgumentException("pads need a begin and an end per axis, got " + pads);
        if (pads.stream().anyMatch(p -> p < 0)) throw new IllegalArgumentException("pads must be non-negative (a crop is a slice): " + pads);
    }

    public Pad(Mode mode, int[] pads, float value) { this(mode, Ints.of(pads), value); }

    public int rank() { return pads.size() / 2; }
    public int begin(int axis) { return pads.get(axis); }
    public int end(int axis) { return pads.get(rank() + axis); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        int[] d = in.get(0).shape().dims();
        Checks.require(d.length == rank(), this, "pads " + pads + " are for rank " + rank() + ", the operand is " + in.get(0));
        for (int a = 0; a < d.length; a++) {
            Checks.require(mode != Mode.REFLECT || begin(a) < d[a] && end(a) < d[a], this,
                    "reflect pads " + begin(a) + " and " + end(a) + " on axis " + a + " of " + in.get(0)
                            + " must each be smaller than the axis' size " + d[a] + " (the edge is not repeated)");
            d[a] += begin(a) + end(a);
        }
        return TensorType.f32(d);
    }

    /**
     * The operand index that result index i (counted from the start of the operand, so the begin
     * pad has i &lt; 0) reads along an axis of size n, or −1 for the constant.
     */
    public static int source(Mode mode, int i, int n) {
        if (i >= 0 && i < n) return i;
        return switch (mode) {
            case CONSTANT -> -1;
            case EDGE -> i < 0 ? 0 : n - 1;
            case REFLECT -> i < 0 ? -i : 2 * (n - 1) - i;
        };
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] od = out.shape().dims(), xd = in.get(0).shape().dims(), xs = in.get(0).shape().strides(), idx = new int[od.length];
        float[] x = in.get(0).data(), y = new float[out.shape().elementCount()];
        for (int p = 0; p < y.length; p++) {
            Broadcast.unravel(p, od, idx);
            int off = 0;
            for (int a = 0; a < od.length && off >= 0; a++) {
                int s = source(mode, idx[a] - begin(a), xd[a]);
                off = s < 0 ? -1 : off + s * xs[a];
            }
            y[p] = off < 0 ? value : x[off];
        }
        return HostTensor.of(out.shape(), y);
    }
}
