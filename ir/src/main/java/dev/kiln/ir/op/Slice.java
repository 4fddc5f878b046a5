package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/**
 * Strided window: along each listed axis, elements start, start+step, ... below end.
 * Indices are resolved (non-negative, end clamped by the builder); steps are positive.
 */
public record Slice(Ints axes, Ints starts, Ints ends, Ints steps) implements Op {
    public Slice {
        if (axes.size() != starts.size() || axes.size() != ends.size() || axes.size() != steps.size())
            throw new IllegalArgumentException("slice axes/starts/ends/steps differ in length");
        for (int i = 0; i < axes.size(); i++)
            if (axes.get(i) < 0 || starts.get(i) < 0 || ends.get(i) <= starts.get(i) || steps.get(i) <= 0)
                throw new IllegalArgumentException("slice must be resolved and non-empty: axes=" + axes
                        + " starts=" + starts + " ends=" + ends + " steps=" + steps);
    }

    /** The same, from arrays (copied). */
    public Slice(int[] axes, int[] starts, int[] ends, int[] steps) {
        this(Ints.of(axes), Ints.of(starts), Ints.of(ends), Ints.of(steps));
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        int[] d = in.get(0).shape().dims();
        for (int i = 0; i < axes.size(); i++) {
            Checks.require(axes.get(i) < d.length, this, "axis " + axes.get(i) + " out of range for " + in.get(0));
            Checks.require(ends.get(i) <= d[axes.get(i)], this, "end " + ends.get(i) + " beyond axis " + axes.get(i) + " of " + in.get(0));
            d[axes.get(i)] = (ends.get(i) - starts.get(i) + steps.get(i) - 1) / steps.get(i);
        }
        return TensorType.f32(d);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] od = out.shape().dims(), is = in.get(0).shape().strides(), idx = new int[od.length];
        int[] start = new int[od.length], step = new int[od.length];
        Arrays.fill(step, 1);
        for (int i = 0; i < axes.size(); i++) { start[axes.get(i)] = starts.get(i); step[axes.get(i)] = steps.get(i); }
        float[] x = in.get(0).data(), y = new float[out.shape().elementCount()];
        for (int p = 0; p < y.length; p++) {
            Broadcast.unravel(p, od, idx);
            int off = 0;
            for (int i = 0; i < od.length; i++) off += (start[i] + idx[i] * step[i]) * is[i];
            y[p] = x[off];
        }
        return HostTensor.of(out.shape(), y);
    }
}
