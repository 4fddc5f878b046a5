package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/** softmax along one axis (non-negative once built): exp(x − max) / Σ exp(x − max). */
public record Softmax(int axis) implements Op {
    public Softmax {
        if (axis < 0) throw new IllegalArgumentException("softmax axis must be normalised to >= 0, got " + axis);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        Checks.require(axis < in.get(0).rank(), this, "axis " + axis + " out of range for " + in.get(0));
        return in.get(0);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        int[] d = in.get(0).shape().dims();
        int len = d[axis], inner = 1, outer = 1;
        for (int i = axis + 1; i < d.length; i++) inner *= d[i];
        for (int i = 0; i < axis; i++) outer *= d[i];
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                int base = o * len * inner + i;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < len; k++) max = Math.max(max, x[base + k * inner]);
                double sum = 0;
                for (int k = 0; k < len; k++) sum += Math.exp(x[base + k * inner] - max);
                for (int k = 0; k < len; k++) y[base + k * inner] = (float) (Math.exp(x[base + k * inner] - max) / sum);
            }
        return HostTensor.of(in.get(0).shape(), y);
    }
}
