package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Multiplication by a constant, e.g. attention's 1/sqrt(d). */
public record Scale(float factor) implements Op {
    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        return in.get(0);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) ((double) x[i] * factor);
        return HostTensor.of(in.get(0).shape(), y);
    }
}
