package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.InvalidIndexException;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Picks slices of data along one axis by indices read at run time (ONNX Gather, torch.index_select,
 * an embedding lookup: weight [V,D] gathered by ids [B,N] is [B,N,D]). The result's shape is
 * data's with that axis replaced by the indices' shape. An index i counts from the end when
 * negative (i + extent), as ONNX has it; an index outside [−extent, extent), or one that is not an
 * integer, is an {@link InvalidIndexException} naming it, never another row. Indices are an integer
 * tensor or f32 integers (the IR carries integers as exact f32 values, see {@code DType}).
 */
public record Gather(int axis) implements Op {
    public Gather {
        if (axis < 0) throw new IllegalArgumentException("gather axis must be resolved (non-negative), got " + axis);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 2, 2);
        int[] d = in.get(0).shape().dims(), k = in.get(1).shape().dims();
        Checks.require(axis < d.length, this, "axis " + axis + " out of range for data " + in.get(0));
        Checks.require(d[axis] > 0, this, "axis " + axis + " of data " + in.get(0) + " is empty: no index is valid");
        int[] out = new int[d.length - 1 + k.length];
        System.arraycopy(d, 0, out, 0, axis);
        System.arraycopy(k, 0, out, axis, k.length);
        System.arraycopy(d, axis + 1, out, axis + k.length, d.length - axis - 1);
        return TensorType.f32(out);
    }

    /** Rows before the axis, extent of the axis, and elements after it, of data dims d. */
    public static int[] split(int[] d, int axis) {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= d[i];
        for (int i = axis + 1; i < d.length; i++) inner *= d[i];
        return new int[]{outer, d[axis], inner};
    }

    /**
     * The non-negative row that index value v (element j of the indices) selects on an axis of this
     * extent; an InvalidIndexException otherwise. Backends report with the same message.
     */
    public static int resolve(float v, int extent, long j) {
        if (v != Math.rint(v) || Float.isInfinite(v)) throw new InvalidIndexException(message(v, extent, j));
        long k = (long) v;
        if (k < 0) k += extent;
        if (k < 0 || k >= extent) throw new InvalidIndexException(message(v, extent, j));
        return (int) k;
    }

    public static String message(float v, int extent, long j) {
        String shown = v == Math.rint(v) && !Float.isInfinite(v) ? Long.toString((long) v) : Float.toString(v);
        return "gather index " + shown + " (element " + j + " of the indices) is " + (v == Math.rint(v) ? "out of range" : "not an integer")
                + ": the gathered axis has " + extent + " entries, so indices must be in [" + -extent + ", " + extent + ")";
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        int[] s = split(in.get(0).shape().dims(), axis);
        int outer = s[0], extent = s[1], inner = s[2];
        float[] x = in.get(0).data(), idx = in.get(1).data(), y = new float[out.shape().elementCount()];
        int count = idx.length;
        int[] rows = new int[count];
        for (int j = 0; j < count; j++) rows[j] = resolve(idx[j], extent, j);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < count; j++)
                System.arraycopy(x, (o * extent + rows[j]) * inner, y, (o * count + j) * inner, inner);
        return HostTensor.of(out.shape(), y);
    }
}
