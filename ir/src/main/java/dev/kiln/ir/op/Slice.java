package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/**
 * Strided window: along each listed axis, elements start, start+step, ... below end.
 * Indices are resolved (non-negative, end clamped by the builder); steps are positive.
 */
public record Slice(int[] axes, int[] starts, int[] ends, int[] steps) implements Op {
    public Slice {
        if (axes.length != starts.length || axes.length != ends.length || axes.length != steps.length)
            throw new IllegalArgumentException("slice axes/starts/ends/steps differ in length");
        for (int i = 0; i < axes.length; i++)
            if (axes[i] < 0 || starts[i] < 0 || ends[i] <= starts[i] || steps[i] <= 0)
                throw new IllegalArgumentException("slice must be resolved and non-empty: axes=" + Arrays.toString(axes)
                        + " starts=" + Arrays.toString(starts) + " ends=" + Arrays.toString(ends) + " steps=" + Arrays.toString(steps));
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        int[] d = in.get(0).shape().dims();
        for (int i = 0; i < axes.length; i++) {
            Checks.require(axes[i] < d.length, this, "axis " + axes[i] + " out of range for " + in.get(0));
            Checks.require(ends[i] <= d[axes[i]], this, "end " + ends[i] + " beyond axis " + axes[i] + " of " + in.get(0));
            d[axes[i]] = (ends[i] - starts[i] + steps[i] - 1) / steps[i];
        }
        return TensorType.f32(d);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] od = out.shape().dims(), is = in.get(0).shape().strides(), idx = new int[od.length];
        int[] start = new int[od.length], step = new int[od.length];
        Arrays.fill(step, 1);
        for (int i = 0; i < axes.length; i++) { start[axes[i]] = starts[i]; step[axes[i]] = steps[i]; }
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
