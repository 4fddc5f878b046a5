package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Running sum along one axis (ONNX CumSum, torch.cumsum): y[i] = x[0] + ... + x[i]; exclusive
 * leaves out x[i] itself (y[0] = 0), reverse sums from the end. Exports use it for position ids
 * (cumsum(ids ≠ pad)), integers that f32 holds exactly; the reference accumulates in double.
 */
public record CumSum(int axis, boolean exclusive, boolean reverse) implements Op {
    public CumSum {
        if (axis < 0) throw new IllegalArgumentException("cum_sum axis must be resolved (non-negative), got " + axis);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        Checks.require(axis < in.get(0).rank(), this, "axis " + axis + " out of range for " + in.get(0));
        return TensorType.f32(in.get(0).shape().dims());
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType t = inferType(in.stream().map(HostTensor::type).toList());
        int[] s = Gather.split(t.shape().dims(), axis);
        int outer = s[0], n = s[1], inner = s[2];
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double acc = 0;
                for (int step = 0; step < n; step++) {
                    int k = reverse ? n - 1 - step : step;
                    int p = (o * n + k) * inner + i;
                    if (exclusive) { y[p] = (float) acc; acc += x[p]; }
                    else { acc += x[p]; y[p] = (float) acc; }
                }
            }
        return HostTensor.of(t.shape(), y);
    }
}
