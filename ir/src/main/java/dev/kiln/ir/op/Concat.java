package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Joins operands along one axis; all other dimensions must agree. */
public record Concat(int axis) implements Op {
    public Concat {
        if (axis < 0) throw new IllegalArgumentException("concat axis must be normalised to >= 0, got " + axis);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, Integer.MAX_VALUE);
        TensorType first = in.get(0);
        Checks.require(axis < first.rank(), this, "axis " + axis + " out of range for " + first);
        int[] d = first.shape().dims();
        d[axis] = 0;
        for (TensorType t : in) {
            Checks.require(t.rank() == first.rank(), this, "operands differ in rank: " + in);
            for (int i = 0; i < d.length; i++)
                if (i != axis) Checks.require(t.dim(i) == first.dim(i), this, "operands differ off axis " + axis + ": " + in);
            d[axis] += t.dim(axis);
        }
        return TensorType.f32(d);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        int[] od = out.shape().dims();
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= od[i];
        for (int i = axis + 1; i < od.length; i++) inner *= od[i];
        float[] y = new float[out.shape().elementCount()];
        int at = 0;
        for (HostTensor t : in) {
            int block = t.shape().dim(axis) * inner;
            for (int o = 0; o < outer; o++) System.arraycopy(t.data(), o * block, y, o * od[axis] * inner + at, block);
            at += block;
        }
        return HostTensor.of(out.shape(), y);
    }
}
